package genl

import (
	"errors"
	"fmt"
	"regexp"
	"syscall"
	"time"
)

// The module's answers, as sentinels shared by the real client and the
// fake. Each error from the module wraps its sentinel and the errno.
var (
	// ErrNotFound: no policy or recommendation with that id or key (ENOENT).
	ErrNotFound = errors.New("no such ainka policy or recommendation")
	// ErrNoProcess: the process to renice does not exist (ESRCH).
	ErrNoProcess = errors.New("no such process")
	// ErrFull: the policy or recommendation table is full (ENOSPC).
	ErrFull = errors.New("ainka table full")
	// ErrDenied: the module refuses the target, e.g. a kernel thread (EPERM).
	ErrDenied = errors.New("ainka module refused the target")
)

// moduleErr wraps an errno from the module with its sentinel.
func moduleErr(errno syscall.Errno, msg string) error {
	var s error
	switch errno {
	case syscall.ENOENT:
		s = ErrNotFound
	case syscall.ESRCH:
		s = ErrNoProcess
	case syscall.ENOSPC:
		s = ErrFull
	case syscall.EPERM:
		s = ErrDenied
	case syscall.EINVAL, syscall.ERANGE:
		s = ErrInvalid
	default:
		return fmt.Errorf("%s: %w", msg, errno)
	}
	return fmt.Errorf("%w: %s (%w)", s, msg, errno)
}

var recKeyRe = regexp.MustCompile(`^[A-Za-z0-9_.:-]{1,31}$`)

// invalid is a request caught before sending. It wraps the errno the
// module would answer for it (ERANGE from an attribute policy's range or
// a value check, EINVAL for a malformed key), so that a caller sees the
// same error from the client, the fake and the module (contract_test.go
// sends these requests unvalidated to the module to hold it to that).
func invalid(errno syscall.Errno, format string, args ...any) error {
	return fmt.Errorf("%w: %s (%w)", ErrInvalid, fmt.Sprintf(format, args...), errno)
}

// ValidatePolicy applies the module's checks to p without sending it.
func ValidatePolicy(p Policy) error {
	switch {
	case p.ID == 0:
		return invalid(syscall.ERANGE, "policy id must be >= 1")
	case p.Metric == 0 || p.Metric > metricMax:
		return invalid(syscall.ERANGE, "metric %d out of range", p.Metric)
	case p.Cmp == 0 || p.Cmp > cmpMax:
		return invalid(syscall.ERANGE, "comparison %d out of range", p.Cmp)
	case p.Action == 0 || p.Action > ActionReadahead:
		return invalid(syscall.ERANGE, "action %d out of range for a policy", p.Action)
	case p.For < 0 || p.For > time.Hour:
		return invalid(syscall.ERANGE, "for-duration %v out of 0..1h", p.For)
	case p.Priority > 65535:
		return invalid(syscall.ERANGE, "priority %d out of 0..65535", p.Priority)
	case p.TargetState > stateMax:
		return invalid(syscall.ERANGE, "target state %d out of range", p.TargetState)
	case p.RecKey != "" && !recKeyRe.MatchString(p.RecKey):
		return ValidateRecKey(p.RecKey)
	case p.Action == ActionRenice && (p.ActValue < NiceMin || p.ActValue > NiceMax):
		return invalid(syscall.ERANGE, "nice %d out of -20..19", p.ActValue)
	case p.Action == ActionReadahead && (p.ActValue < 0 || p.ActValue > RAPagesMax):
		return invalid(syscall.ERANGE, "ra_pages %d out of 0..65536", p.ActValue)
	}
	return nil
}

// ValidateRecKey checks a recommendation key the way the module does.
func ValidateRecKey(key string) error {
	if !recKeyRe.MatchString(key) {
		return invalid(syscall.EINVAL, "recommendation key %q must be 1..31 of [A-Za-z0-9_.:-]", key)
	}
	return nil
}

// ValidateState checks a state for SET_STATE.
func ValidateState(s State) error {
	if s == 0 || s > stateMax {
		return invalid(syscall.ERANGE, "state %d out of range", s)
	}
	return nil
}

// ValidateActuation applies the module's range checks to an ACTUATE
// request; whether its process or device exists only the module knows.
func ValidateActuation(a Actuation) error {
	switch a.Kind {
	case ActionRestore:
	case ActionRenice:
		if a.Value < NiceMin || a.Value > NiceMax {
			return invalid(syscall.ERANGE, "nice %d out of -20..19", a.Value)
		}
	case ActionReadahead:
		if a.Value < 0 || a.Value > RAPagesMax {
			return invalid(syscall.ERANGE, "ra_pages %d out of 0..65536", a.Value)
		}
	default:
		return invalid(syscall.ERANGE, "actuation kind %d", a.Kind)
	}
	return nil
}
