package push

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"syscall"
	"time"
)

// Reasons a post fails, the label of ainka_push_errors_total.
var reasons = []string{"refused", "lost", "unreachable", "timeout", "dns", "tls", "http_4xx", "http_5xx", "other"}

// statusError is a post the store answered with a status other than 2xx.
type statusError struct {
	code int
	body string
}

func (e *statusError) Error() string {
	return fmt.Sprintf("HTTP %d: %s", e.code, e.body)
}

// rejected says whether the store refused the snapshot itself: retrying
// the same bytes cannot succeed.
func rejected(err error) bool {
	var se *statusError
	return errors.As(err, &se) && se.code/100 == 4 && se.code != 408 && se.code != 429
}

// reason classifies a failed post for the counter and the log.
func reason(err error) string {
	var se *statusError
	var dns *net.DNSError
	var rh tls.RecordHeaderError
	var cv *tls.CertificateVerificationError
	var ua x509.UnknownAuthorityError
	var he x509.HostnameError
	var ci x509.CertificateInvalidError
	var ne net.Error
	switch {
	case errors.As(err, &se) && se.code/100 == 4:
		return "http_4xx"
	case errors.As(err, &se):
		return "http_5xx"
	case errors.As(err, &rh), errors.As(err, &cv), errors.As(err, &ua), errors.As(err, &he), errors.As(err, &ci),
		strings.Contains(err.Error(), "tls: "):
		return "tls"
	case errors.As(err, &dns):
		return "dns"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "refused"
	// The store went away while a post was in flight: its connection was
	// reset or closed under the request (a stop, a crash, a restart). A
	// close that wins the race with the request's first byte is net/http's
	// unexported errServerClosedIdle, known only by its text.
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE), errors.Is(err, net.ErrClosed),
		errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF),
		strings.Contains(err.Error(), "server closed idle connection"):
		return "lost"
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return "unreachable"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	}
	return "other"
}

// errLog logs failures at most once per period, with the reason and how
// many failed since the last line, and says once when pushing resumes.
type errLog struct {
	log     *slog.Logger
	url     string
	period  time.Duration
	last    time.Time // when a failure was last logged
	n       int       // failures since then
	failing bool
}

func (l *errLog) fail(now time.Time, err error, buffered int) {
	l.n++
	l.failing = true
	if !l.last.IsZero() && now.Sub(l.last) < l.period {
		return
	}
	l.log.Warn("metrics push failing; snapshots are kept and retried, the oldest dropped when the buffer is full",
		"url", l.url, "reason", reason(err), "err", err, "failures", l.n, "buffered_snapshots", buffered)
	l.last, l.n = now, 0
}

func (l *errLog) ok() {
	if l.failing {
		l.log.Info("metrics push resumed", "url", l.url)
		l.failing = false
	}
}
