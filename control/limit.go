package control

import (
	"io"
	"net"
	"strconv"
	"sync"
	"time"
)

// Limits of the control socket. Without them, 21 000 connections that
// never finish their request body held 21 000 file descriptors: the
// daemon then failed to open the knobs it writes ("too many open files").
const (
	// DefaultMaxConns is how many connections are served at once.
	DefaultMaxConns = 64
	// DefaultReadTimeout bounds reading one request, headers and body.
	DefaultReadTimeout = 10 * time.Second
	// maxHeaderBytes and maxBodyBytes bound a request's size: requests are
	// small JSON objects (a condition is at most 16 KiB).
	maxHeaderBytes = 16 << 10
	maxBodyBytes   = 64 << 10
	// maxErrorText bounds the text of an error reply: errors quote names
	// the client sent, which may be 100 KB long.
	maxErrorText = 1024
)

// busyReply answers a connection over the limit, so that a client learns
// why at once instead of hanging in the listen backlog.
var busyReply = func() string {
	body := `{"error":"control socket busy: too many connections open; try again shortly"}` + "\n"
	return "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nConnection: close\r\n" +
		"Content-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body
}()

// limitListener serves at most max connections at once; one over the
// limit is answered busyReply and closed, holding its descriptor at most
// 20 ms.
type limitListener struct {
	net.Listener
	mu       sync.Mutex
	open     int // connections served
	refusing int // connections being answered busyReply
	max      int
}

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		l.mu.Lock()
		ok := l.open < l.max
		if ok {
			l.open++
		}
		l.mu.Unlock()
		if ok {
			return &limitedConn{Conn: c, l: l}, nil
		}
		l.refuse(c)
	}
}

// refuse answers c busyReply. It reads what the client sent for 20 ms
// before closing, since closing with its request unread would make the
// client's write fail (EPIPE) before it reads the answer; at most max
// connections are refused that way at once, any more are just closed.
func (l *limitListener) refuse(c net.Conn) {
	l.mu.Lock()
	ok := l.refusing < l.max
	if ok {
		l.refusing++
	}
	l.mu.Unlock()
	if !ok {
		c.Close()
		return
	}
	go func() {
		defer func() {
			c.Close()
			l.mu.Lock()
			l.refusing--
			l.mu.Unlock()
		}()
		c.SetDeadline(time.Now().Add(20 * time.Millisecond))
		if _, err := c.Write([]byte(busyReply)); err != nil {
			return
		}
		io.Copy(io.Discard, io.LimitReader(c, maxHeaderBytes+maxBodyBytes))
	}()
}

type limitedConn struct {
	net.Conn
	l    *limitListener
	once sync.Once
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() {
		c.l.mu.Lock()
		c.l.open--
		c.l.mu.Unlock()
	})
	return err
}

// truncate cuts s to at most n bytes, saying how much was cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && cut < len(s) && s[cut]&0xC0 == 0x80 { // not inside a UTF-8 sequence
		cut--
	}
	return s[:cut] + "… (" + strconv.Itoa(len(s)-cut) + " more bytes)"
}
