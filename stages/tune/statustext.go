package tune

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// WriteText writes the status for a person (`ainka-cli tuners`): the
// regime, each tuner with its target, the target's class and the features
// behind it, the entities followed, and the settings kept per regime with
// the gains measured.
func (st *Status) WriteText(w io.Writer) error {
	fmt.Fprintf(w, "regime:    r%d (%d known)\n", st.Regime, st.Regimes)
	fmt.Fprintf(w, "followed:  %d tasks, %d block devices (tables %d bytes, %d evicted)\n", st.Tasks, st.Devices, st.TableBytes, st.Evicted)
	if len(st.TimeToBest) > 0 {
		ms := make([]string, len(st.TimeToBest))
		for i, x := range st.TimeToBest {
			ms[i] = fmt.Sprintf("%.0f", x)
		}
		fmt.Fprintf(w, "time to best when a regime returned: %s ms\n", strings.Join(ms, ", "))
	}
	if st.ModelPath != "" {
		fmt.Fprintf(w, "model:     %s", st.ModelPath)
		if st.ModelStatus != "" {
			fmt.Fprintf(w, " (%s)", st.ModelStatus)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TUNER\tMODE\tSTATE\tTARGET\tSETTING\tTRIALS\tGAIN\tCHANGES\tOBJECTIVE")
	for _, t := range st.Tuners {
		target, setting := "-", "-"
		if t.Target != "" {
			target, setting = t.Target+" ("+t.Selector+")", t.Setting
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%+.0f%%\t%d\t%s\n", t.Name, t.Mode, t.State, target, setting, t.Steps, t.GainPct, t.Changes, t.Objective)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, t := range st.Tuners {
		if t.Target != "" {
			fmt.Fprintf(w, "  %s: %s, confidence %.2f: %s\n", t.Name, t.Class, t.Conf, t.Why)
		}
		if t.Last != "" {
			fmt.Fprintf(w, "  %s last: %s\n", t.Name, t.Last)
		}
	}
	if len(st.Entities) > 0 {
		fmt.Fprintln(w)
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "ENTITY\tCLASS\tCONFIDENCE\tFEATURES")
		for _, e := range st.Entities {
			fmt.Fprintf(tw, "%s\t%s\t%.2f\t%s\n", e.Name, e.Class, e.Conf, e.Why)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	fmt.Fprintln(w)
	if len(st.Best) == 0 {
		_, err := fmt.Fprintln(w, "kept per regime: nothing learned yet")
		return err
	}
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "REGIME\tTARGET\tKEPT\tMEASURED GAIN\tTRIALS")
	for _, b := range st.Best {
		v := b.Value
		if v == "" {
			v = "original"
		}
		r := fmt.Sprintf("r%d", b.Regime)
		if b.Regime == phaseRegime { // the target key names its phase
			r = "any"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%+.0f%%\t%d\n", r, b.Target, v, 100*b.Gain, b.Trials)
	}
	return tw.Flush()
}
