package tune

import "unsafe"

// TunerStatus is one tuner for ainka-cli tuners.
type TunerStatus struct {
	Name      string  `json:"name"`
	Mode      string  `json:"mode"`
	State     string  `json:"state"` // idle, exploring, settled, advising
	Objective string  `json:"objective"`
	Target    string  `json:"target,omitempty"`
	Selector  string  `json:"selector,omitempty"`
	Class     string  `json:"class,omitempty"`
	Conf      float64 `json:"confidence,omitempty"`
	Why       string  `json:"why,omitempty"`
	Setting   string  `json:"setting,omitempty"`
	Steps     int     `json:"steps"`
	GainPct   float64 `json:"gain_pct"`
	Changes   int     `json:"changes"`
	Last      string  `json:"last,omitempty"`
}

// Status is the tuners' state.
type Status struct {
	Regime      uint32        `json:"regime"`
	Regimes     int           `json:"regimes"`
	Tasks       int           `json:"tasks"`
	Devices     int           `json:"devices"`
	Evicted     uint64        `json:"evicted"`
	TableBytes  int           `json:"table_bytes"`
	TimeToBest  []float64     `json:"time_to_best_ms"`
	Tuners      []TunerStatus `json:"tuners"`
	Best        []Best        `json:"best"`
	ModelPath   string        `json:"model_path,omitempty"`
	ModelStatus string        `json:"model_status,omitempty"`
}

// Status returns a copy of the tuners' state.
func (s *Stage) Status() Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := Status{
		Regime: s.reg.cur, Regimes: len(s.reg.list), Tasks: s.tr.nTasks, Devices: s.tr.nDevs, Evicted: s.tr.evicted,
		TableBytes: int(unsafe.Sizeof(s.tr)), Best: append([]Best(nil), s.bests...), ModelPath: s.cfg.ModelPath,
	}
	if s.loadErr != nil {
		st.ModelStatus = s.loadErr.Error()
	}
	for _, ns := range s.ttb {
		st.TimeToBest = append(st.TimeToBest, float64(ns)/1e6)
	}
	for _, t := range s.tuners {
		ts := TunerStatus{Name: t.fam.name(), Mode: t.mode.String(), State: "idle", Objective: t.fam.objective(),
			Steps: t.steps, GainPct: 100 * t.gain, Changes: t.changes, Last: t.last}
		if t.active {
			ts.Target, ts.Selector, ts.Class, ts.Conf, ts.Why = t.tg.key, t.tg.sel, t.tg.class.String(), t.tg.conf, t.tg.why
			switch {
			case t.mode == Advise:
				ts.State = "advising"
			case t.exploit:
				ts.State = "settled"
			default:
				ts.State = "exploring"
			}
			if t.arm < len(t.arms) {
				ts.Setting = t.arms[t.arm]
			}
			if ts.Setting == "" {
				ts.Setting = "original"
			}
		}
		st.Tuners = append(st.Tuners, ts)
	}
	return st
}
