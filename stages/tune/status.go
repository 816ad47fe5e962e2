package tune

import (
	"fmt"
	"sort"
	"unsafe"
)

// TunerStatus is one tuner for ainka-cli tuners.
type TunerStatus struct {
	Name      string  `json:"name"`
	Mode      string  `json:"mode"`
	State     string  `json:"state"` // idle, exploring, runoff, settled, advising
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

// EntityStatus is a task or block device the tuners follow, with the
// class the classifier gives it and the features behind it.
type EntityStatus struct {
	Kind  string  `json:"kind"` // task or device
	Name  string  `json:"name"` // "pid:1234" or "loop0"
	Class string  `json:"class"`
	Conf  float64 `json:"confidence"`
	Why   string  `json:"why"`
}

// MaxStatusEntities bounds the entities Status lists (the most confident
// first).
const MaxStatusEntities = 16

// Status is the tuners' state.
type Status struct {
	Regime      uint32         `json:"regime"`
	Regimes     int            `json:"regimes"`
	Tasks       int            `json:"tasks"`
	Devices     int            `json:"devices"`
	Evicted     uint64         `json:"evicted"`
	TableBytes  int            `json:"table_bytes"`
	TimeToBest  []float64      `json:"time_to_best_ms"`
	Tuners      []TunerStatus  `json:"tuners"`
	Entities    []EntityStatus `json:"entities"`
	Best        []Best         `json:"best"`
	ModelPath   string         `json:"model_path,omitempty"`
	ModelStatus string         `json:"model_status,omitempty"`
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
	st.Entities = s.entities()
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
			case t.ro.on:
				ts.State = "runoff"
			case t.exploit:
				ts.State = "settled"
			default:
				ts.State = "exploring"
			}
			if ts.Setting = t.setting; ts.Setting == "" {
				ts.Setting = "original"
			}
		}
		st.Tuners = append(st.Tuners, ts)
	}
	return st
}

// entities lists the classified entities seen in the last goneNs of
// event time, the most confident first, at most MaxStatusEntities.
func (s *Stage) entities() []EntityStatus {
	var last uint64
	for i := 0; i < s.tr.nTasks; i++ {
		last = max(last, s.tr.tasks[i].lastNs)
	}
	for i := 0; i < s.tr.nDevs; i++ {
		last = max(last, s.tr.devs[i].lastNs)
	}
	out := []EntityStatus{}
	for i := 0; i < s.tr.nTasks; i++ {
		e := &s.tr.tasks[i]
		if c, conf := classifyTask(e); c != Unknown && last-e.lastNs < goneNs {
			out = append(out, EntityStatus{Kind: "task", Name: fmt.Sprintf("pid:%d", e.pid), Class: c.String(), Conf: conf, Why: explainTask(e)})
		}
	}
	for i := 0; i < s.tr.nDevs; i++ {
		e := &s.tr.devs[i]
		if c, conf := classifyDevice(e); c != Unknown && last-e.lastNs < goneNs {
			n := s.devName(e.dev)
			out = append(out, EntityStatus{Kind: "device", Name: n, Class: c.String(), Conf: conf, Why: explainDevice(e, n)})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Conf > out[j].Conf })
	return out[:min(len(out), MaxStatusEntities)]
}
