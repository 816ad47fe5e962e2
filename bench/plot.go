package bench

import (
	"fmt"
	"image/color"
	"math"
	"path/filepath"
	"sort"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// Plot draws, per scenario, a box plot of the primary metric per arm,
// a CDF per latency distribution, and the time series (readahead:
// throughput over time with phase boundaries and AINKA's changes).
func Plot(r *Report, dir string) error {
	for _, si := range r.Scenarios {
		spec, _ := Lookup(si.Name)
		groups := r.armGroups(spec)
		if len(groups) == 0 {
			continue
		}
		if err := boxPlot(spec, groups, filepath.Join(dir, spec.Name+"-box.png")); err != nil {
			return err
		}
		if err := cdfPlots(spec, groups, dir); err != nil {
			return err
		}
		if err := seriesPlot(spec, groups, filepath.Join(dir, spec.Name+"-series.png")); err != nil {
			return err
		}
	}
	return nil
}

// armGroup is the runs of one arm; the oracle is its best value.
type armGroup struct {
	label string
	runs  []*Run
}

func (r *Report) armGroups(spec Spec) []armGroup {
	var best string
	for _, row := range r.Summary {
		if row.Scenario == spec.Name && row.Best {
			best = row.KnobValue
		}
	}
	var out []armGroup
	for _, a := range r.Arms {
		g := armGroup{label: a}
		if a == ArmOracle {
			g.label = "oracle " + best
		}
		for _, run := range r.Runs {
			if run.Scenario == spec.Name && run.Arm == a && run.Figures != nil && run.Error == "" && (a != ArmOracle || run.KnobValue == best) {
				g.runs = append(g.runs, run)
			}
		}
		if len(g.runs) > 0 {
			out = append(out, g)
		}
	}
	return out
}

func boxPlot(spec Spec, groups []armGroup, path string) error {
	p := plot.New()
	p.Title.Text = fmt.Sprintf("%s: %s per arm", spec.Name, spec.Primary.Name)
	p.Y.Label.Text = spec.Primary.Unit
	var names []string
	for i, g := range groups {
		var vals plotter.Values
		for _, run := range g.runs {
			if v, ok := run.Primary(spec); ok {
				vals = append(vals, v)
			}
		}
		b, err := plotter.NewBoxPlot(vg.Points(30), float64(i), vals)
		if err != nil {
			return fmt.Errorf("box plot %s: %w", spec.Name, err)
		}
		b.FillColor = plotutil.Color(i)
		p.Add(b)
		names = append(names, g.label)
	}
	p.NominalX(names...)
	return p.Save(vg.Length(110+90*len(groups)), 4*vg.Inch, path)
}

// cdfPlots draws one CDF per latency distribution the scenario records,
// a line per arm: the quantiles averaged over the arm's runs.
func cdfPlots(spec Spec, groups []armGroup, dir string) error {
	keys := map[string]bool{}
	for _, g := range groups {
		for _, run := range g.runs {
			for k := range run.Figures.Quantiles {
				keys[k] = true
			}
		}
	}
	for k := range keys {
		p := plot.New()
		p.Title.Text = fmt.Sprintf("%s: %s, CDF (quantiles averaged over runs)", spec.Name, k)
		p.X.Label.Text = "latency (µs, log)"
		p.Y.Label.Text = "fraction ≤ x"
		p.X.Scale = plot.LogScale{}
		p.X.Tick.Marker = plot.LogTicks{Prec: -1}
		for i, g := range groups {
			xy := meanQuantiles(g.runs, k)
			if xy == nil {
				continue
			}
			l, err := plotter.NewLine(xy)
			if err != nil {
				return err
			}
			l.Color = plotutil.Color(i)
			l.Width = vg.Points(1.5)
			p.Add(l)
			p.Legend.Add(g.label, l)
		}
		p.Legend.Top, p.Legend.Left = false, false
		p.Legend.YOffs = vg.Points(40)
		if err := p.Save(7*vg.Inch, 4*vg.Inch, filepath.Join(dir, fmt.Sprintf("%s-%s-cdf.png", spec.Name, k))); err != nil {
			return err
		}
	}
	return nil
}

func meanQuantiles(runs []*Run, key string) plotter.XYs {
	var sum [101]float64
	n := 0
	for _, run := range runs {
		q := run.Figures.Quantiles[key]
		if len(q) != 101 {
			continue
		}
		for i, v := range q {
			sum[i] += v
		}
		n++
	}
	if n == 0 {
		return nil
	}
	xy := make(plotter.XYs, 0, 101)
	for i := range sum {
		xy = append(xy, plotter.XY{X: math.Max(sum[i]/float64(n), 1), Y: float64(i) / 100})
	}
	return xy
}

// seriesPlot draws each arm's last run's series over time, the phase
// boundaries as grey vertical lines and knob changes as labelled points.
func seriesPlot(spec Spec, groups []armGroup, path string) error {
	p := plot.New()
	p.Title.Text = spec.Name + ": over time (last run of each arm; dashed: phase changes of the first arm's run; ▼: knob changes)"
	p.X.Label.Text = "s"
	drawn := false
	var maxY float64
	for i, g := range groups {
		run := g.runs[len(g.runs)-1]
		for _, k := range sortedKeys(run.Figures.Series) {
			if strings.Contains(k, "read_ahead_kb") { // the knob itself: its changes are marks
				continue
			}
			xy := toXY(run.Figures.Series[k])
			l, err := plotter.NewLine(xy)
			if err != nil {
				return err
			}
			l.Color = plotutil.Color(i)
			p.Add(l)
			p.Legend.Add(g.label+" "+k, l)
			drawn = true
			for _, pt := range xy {
				maxY = math.Max(maxY, pt.Y)
			}
		}
	}
	if !drawn {
		return nil
	}
	for i, g := range groups {
		if err := addMarks(p, g.runs[len(g.runs)-1].Figures.Marks, maxY, plotutil.Color(i), i == 0); err != nil {
			return err
		}
	}
	p.Legend.Top = true
	return p.Save(9*vg.Inch, 5*vg.Inch, path)
}

// addMarks draws phase boundaries ("phase ...", when phases is set) as
// vertical lines and other marks (knob changes) as labelled points at
// the top, in the arm's colour.
func addMarks(p *plot.Plot, marks []Mark, maxY float64, c color.Color, phases bool) error {
	for _, m := range marks {
		if strings.HasPrefix(m.Label, "phase") {
			if !phases {
				continue
			}
			l, err := plotter.NewLine(plotter.XYs{{X: m.T, Y: 0}, {X: m.T, Y: maxY}})
			if err != nil {
				return err
			}
			l.Color = color.Gray{Y: 160}
			l.Dashes = []vg.Length{vg.Points(3), vg.Points(3)}
			p.Add(l)
			continue
		}
		lab, err := plotter.NewLabels(plotter.XYLabels{XYs: plotter.XYs{{X: m.T, Y: maxY * 1.02}}, Labels: []string{"▼" + m.Label}})
		if err != nil {
			return err
		}
		for i := range lab.TextStyle {
			lab.TextStyle[i].Color = c
		}
		p.Add(lab)
	}
	return nil
}

func toXY(pts []Point) plotter.XYs {
	xy := make(plotter.XYs, len(pts))
	for i, pt := range pts {
		xy[i] = plotter.XY{X: pt.T, Y: pt.V}
	}
	return xy
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
