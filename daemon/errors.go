package daemon

import (
	"errors"
	"fmt"
)

// The error kinds that decide the exit code. An error is of a kind when
// errors.Is(err, ErrUsage) (or ErrNotReady) holds; the message is the
// wrapped error's alone, so marking an error does not change what the user
// reads.
var (
	// ErrUsage: how the daemon was called is wrong (flags, arguments,
	// configuration). Exit 2.
	ErrUsage = errors.New("usage error")
	// ErrNotReady: the host lacks something the daemon needs (root, BTF,
	// a probe). Exit 3.
	ErrNotReady = errors.New("host not ready")
)

// UsageError marks err as ErrUsage.
type UsageError struct{ Err error }

func (e UsageError) Error() string        { return e.Err.Error() }
func (e UsageError) Unwrap() error        { return e.Err }
func (e UsageError) Is(target error) bool { return target == ErrUsage }

// NotReadyError marks err as ErrNotReady.
type NotReadyError struct{ Err error }

func (e NotReadyError) Error() string        { return e.Err.Error() }
func (e NotReadyError) Unwrap() error        { return e.Err }
func (e NotReadyError) Is(target error) bool { return target == ErrNotReady }

// Usagef formats a usage error.
func Usagef(format string, args ...any) error {
	return UsageError{fmt.Errorf(format, args...)}
}
