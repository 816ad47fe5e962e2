package tui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"github.com/ainka/ainka/view"
)

// Fetch returns the snapshot to show now.
type Fetch func(ctx context.Context) (view.Snapshot, error)

// Options configure Run.
type Options struct {
	Fetch Fetch
	// Title names what is shown in the footer ("ainka run", a socket).
	Title string
	// Interval between redraws (default 1s).
	Interval time.Duration
	// In and Out are the terminal (default os.Stdin and os.Stdout).
	In  io.Reader
	Out io.Writer
}

// Run shows snapshots until the user quits or ctx ends. It returns the
// last snapshot it showed, so a caller can print it once the screen is
// restored.
func Run(ctx context.Context, opt Options) (view.Snapshot, error) {
	if opt.Interval <= 0 {
		opt.Interval = time.Second
	}
	if opt.In == nil {
		opt.In = os.Stdin
	}
	if opt.Out == nil {
		opt.Out = os.Stdout
	}
	m := &model{opt: opt, ctx: ctx, style: styles(lipgloss.NewRenderer(opt.Out))}
	// The screen changes once a second: bubbletea's default of 60 frames a
	// second would wake the daemon 60 times a second to find nothing to
	// draw; 10 still shows a key press or a resize within 100 ms.
	p := tea.NewProgram(m, tea.WithContext(ctx), tea.WithInput(opt.In), tea.WithOutput(opt.Out), tea.WithAltScreen(),
		tea.WithFPS(fps))
	_, err := p.Run()
	if errors.Is(err, tea.ErrProgramKilled) && ctx.Err() != nil {
		err = nil // the daemon ended: a normal end of the view
	}
	if err != nil {
		return m.snap, fmt.Errorf("terminal view: %w", err)
	}
	return m.snap, nil
}

// fps is the renderer's frame rate.
const fps = 10

type snapMsg struct {
	s   view.Snapshot
	err error
}

type tickMsg struct{}

type model struct {
	opt           Options
	ctx           context.Context
	style         view.Style
	snap          view.Snapshot
	have          bool
	err           error
	width, height int
	screen        string // View's text, drawn again only when what it shows changes
}

func (m *model) fetch() tea.Msg {
	ctx, cancel := context.WithTimeout(m.ctx, 2*time.Second)
	defer cancel()
	s, err := m.opt.Fetch(ctx)
	return snapMsg{s, err}
}

func (m *model) tick() tea.Cmd {
	return tea.Tick(m.opt.Interval, func(time.Time) tea.Msg { return tickMsg{} })
}

func (m *model) Init() tea.Cmd { return tea.Batch(m.fetch, m.tick()) }

func (m *model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.screen = ""
	case tea.KeyMsg:
		switch msg.String() {
		case "q", "esc", "ctrl+c":
			return m, tea.Quit
		}
	case tickMsg:
		return m, tea.Batch(m.fetch, m.tick())
	case snapMsg:
		m.err = msg.err
		if msg.err == nil {
			m.snap, m.have = msg.s, true
		}
		m.screen = ""
	}
	return m, nil
}

// View is called after every message (a tick too): it draws the screen
// only when a snapshot, an error or the size has changed.
func (m *model) View() string {
	if m.screen == "" {
		m.screen = m.draw()
	}
	return m.screen
}

// draw is the screen's text. Lines wider than the terminal are left to
// bubbletea's renderer, which cuts every line it writes to the width.
func (m *model) draw() string {
	w, h := m.width, m.height
	if w == 0 {
		w, h = 100, 40
	}
	foot := m.style.Dim(fmt.Sprintf("%s · every %s · q quits", m.opt.Title, m.opt.Interval))
	if m.err != nil {
		foot = m.style.Bad("cannot fetch: "+m.err.Error()) + "  " + foot
	}
	body := "waiting for the first snapshot…"
	if m.have {
		body = view.Render(m.snap, w, h-2, m.style)
	}
	return body + "\n\n" + foot
}

// styles are the view's colours on r's terminal (none on a dumb one).
func styles(r *lipgloss.Renderer) view.Style {
	st := func(s lipgloss.Style) func(string) string { return func(x string) string { return s.Render(x) } }
	return view.Style{
		Title: st(r.NewStyle().Bold(true).Foreground(lipgloss.Color("12"))),
		Head:  st(r.NewStyle().Bold(true)),
		Dim:   st(r.NewStyle().Faint(true)),
		Good:  st(r.NewStyle().Foreground(lipgloss.Color("10"))),
		Warn:  st(r.NewStyle().Foreground(lipgloss.Color("11"))),
		Bad:   st(r.NewStyle().Bold(true).Foreground(lipgloss.Color("9"))),
	}
}

// Show runs the terminal view until q or ctx ends, then prints its
// last screen in plain text, which stays readable once the screen is
// restored. quit is called when the view ends, so that the daemon ends
// with it.
func Show(ctx context.Context, rec *view.Recorder, title string, stdout io.Writer, quit func()) error {
	fetch := func(context.Context) (view.Snapshot, error) { return rec.Snapshot(), nil }
	_, err := Run(ctx, Options{Fetch: fetch, Title: title, Out: stdout})
	quit()
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(stdout, view.Render(rec.Snapshot(), 100, 0, view.Plain))
	return err
}
