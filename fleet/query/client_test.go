package query

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestNewClientURL(t *testing.T) {
	for raw, want := range map[string]string{
		"http://vm:8428":                             "http://vm:8428",
		"http://vm:8428/":                            "http://vm:8428",
		"http://vm:8428/api/v1/import/prometheus":    "http://vm:8428",
		"https://h/select/0/prometheus/api/v1/query": "https://h/select/0/prometheus",
	} {
		c, err := NewClient(raw, 0)
		if err != nil || c.base != want || c.Window != 5*time.Minute {
			t.Errorf("NewClient(%q) = %+v, %v; want base %s", raw, c, err, want)
		}
	}
	for _, raw := range []string{"vm:8428", "ftp://vm/", "http://", "http://a b/"} {
		if _, err := NewClient(raw, 0); !errors.Is(err, ErrBadURL) {
			t.Errorf("NewClient(%q): %v, want ErrBadURL", raw, err)
		}
	}
}

// Whatever the store answers that is not a vector is an error naming it.
func TestQueryBadAnswers(t *testing.T) {
	for answer, want := range map[string]string{
		`<html>not found</html>`: "HTTP 404, not a Prometheus API answer: <html>",
		`{"status":"error","errorType":"422","error":"unknown func tlast_over_time"}`:                  "unknown func tlast_over_time",
		`{"status":"success","data":{"resultType":"matrix","result":[]}}`:                              "a matrix, want a vector",
		`{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"x"]}]}}`: `value "x"`,
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasPrefix(answer, "<") {
				w.WriteHeader(404)
			}
			w.Write([]byte(answer))
		}))
		c, _ := NewClient(srv.URL, time.Minute)
		_, err := c.Query(context.Background(), "up[{W}]")
		if !errors.Is(err, ErrStore) || !strings.Contains(err.Error(), want) {
			t.Errorf("answer %s: err %v, want ErrStore naming %q", answer, err, want)
		}
		srv.Close()
	}
	c, _ := NewClient("http://127.0.0.1:1", time.Minute)
	if err := c.Print(context.Background(), nil, "status", false); !errors.Is(err, ErrStore) || !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("unreachable store: %v", err)
	}
	if err := c.Print(context.Background(), nil, "bogus", false); !errors.Is(err, ErrUnknownView) {
		t.Errorf("unknown view: %v", err)
	}
}
