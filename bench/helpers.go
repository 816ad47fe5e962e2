package bench

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"syscall"
	"time"
)

// The helper workloads are this executable run again with "internal" as
// its first argument: a request/response server and its measuring
// client, a task that touches its working set at a fixed rate, and a
// launcher that enters a cgroup before it execs a program.

// LatencyResult is what a measuring helper prints (JSON, on stdout).
type LatencyResult struct {
	N         int       `json:"n"`
	Quantiles []float64 `json:"quantiles_us"` // p0..p100
}

// Helper runs the internal subcommand args[0]; it returns the exit code.
func Helper(args []string, stdout, stderr io.Writer) int {
	runtime.GOMAXPROCS(1) // a latency-sensitive task is one thread of work
	var err error
	if len(args) == 0 {
		err = errors.New("internal: missing helper name")
	} else {
		switch args[0] {
		case "rr-server":
			err = rrServer(args[1:])
		case "rr-client":
			err = rrClient(args[1:], stdout)
		case "touch":
			err = touch(args[1:], stdout)
		case "grow":
			err = grow(args[1:])
		case "incgroup":
			err = inCgroup(args[1:])
		default:
			err = fmt.Errorf("internal: unknown helper %q", args[0])
		}
	}
	if err != nil {
		fmt.Fprintln(stderr, "ainka-bench", err)
		return 1
	}
	return 0
}

// rrServer echoes 64-byte requests on ADDR until killed.
func rrServer(args []string) error {
	if len(args) != 1 {
		return errors.New("rr-server ADDR")
	}
	ln, err := net.Listen("tcp", args[0])
	if err != nil {
		return err
	}
	for {
		c, err := ln.Accept()
		if err != nil {
			return err
		}
		go func() {
			defer c.Close()
			buf := make([]byte, 64)
			for {
				if _, err := io.ReadFull(c, buf); err != nil {
					return
				}
				if _, err := c.Write(buf); err != nil {
					return
				}
			}
		}()
	}
}

// rrClient sends a request every 1/RATE s for DURATION and measures
// each round trip.
func rrClient(args []string, stdout io.Writer) error {
	if len(args) != 3 {
		return errors.New("rr-client ADDR RATE DURATION")
	}
	rate, err1 := strconv.Atoi(args[1])
	d, err2 := time.ParseDuration(args[2])
	if err := errors.Join(err1, err2); err != nil || rate <= 0 {
		return fmt.Errorf("rr-client: bad rate or duration: %v", err)
	}
	var c net.Conn
	var err error
	for i := 0; i < 50; i++ { // the server may still be starting
		if c, err = net.Dial("tcp", args[0]); err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		return err
	}
	defer c.Close()
	buf := make([]byte, 64)
	return measureLoop(rate, d, stdout, func() error {
		if _, err := c.Write(buf); err != nil {
			return err
		}
		_, err := io.ReadFull(c, buf)
		return err
	})
}

// measureLoop runs op at rate for d, timing each call, and prints the
// latency quantiles.
func measureLoop(rate int, d time.Duration, stdout io.Writer, op func() error) error {
	period := time.Second / time.Duration(rate)
	lat := make([]float64, 0, int(d/period)+1)
	end := time.Now().Add(d)
	next := time.Now()
	for time.Now().Before(end) {
		t0 := time.Now()
		if err := op(); err != nil {
			return err
		}
		lat = append(lat, float64(time.Since(t0).Nanoseconds())/1e3)
		next = next.Add(period)
		if w := time.Until(next); w > 0 {
			time.Sleep(w)
		} else {
			next = time.Now() // fell behind: no burst to catch up
		}
	}
	return json.NewEncoder(stdout).Encode(LatencyResult{N: len(lat), Quantiles: quantiles101(lat)})
}

// touch holds MIB of memory (incompressible contents, as real data) and
// touches 16 random pages of it every 1/RATE s for DURATION: a
// latency-sensitive task with a working set, slowed when reclaim has
// swapped its pages out.
func touch(args []string, stdout io.Writer) error {
	if len(args) != 3 {
		return errors.New("touch MIB RATE DURATION")
	}
	mib, err1 := strconv.Atoi(args[0])
	rate, err2 := strconv.Atoi(args[1])
	d, err3 := time.ParseDuration(args[2])
	if err := errors.Join(err1, err2, err3); err != nil || mib <= 0 || rate <= 0 {
		return fmt.Errorf("touch: bad arguments: %v", err)
	}
	mem := make([]uint64, mib<<20/8)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range mem {
		mem[i] = rng.Uint64()
	}
	const pageWords = 4096 / 8
	pages := len(mem) / pageWords
	return measureLoop(rate, d, stdout, func() error {
		for k := 0; k < 16; k++ {
			p := rng.IntN(pages) * pageWords
			mem[p] ^= mem[p+pageWords-1] + 1
		}
		return nil
	})
}

// grow is a memory hog that keeps growing: RATE MiB/s more every second,
// each new page half random (zram compresses it about 2:1), and all of
// it rewritten over and over (one word a page) so that it stays in use.
// Every 100 ms it writes the MiB it has touched so far to FILE: its
// progress survives an OOM kill. With MAX_MIB it stops growing there and
// goes on rewriting what it has (a bounded hog: the VM's swap is small).
func grow(args []string) error {
	if len(args) != 2 && len(args) != 3 {
		return errors.New("grow RATE_MIB_S PROGRESS_FILE [MAX_MIB]")
	}
	rate, err := strconv.Atoi(args[0])
	if err != nil || rate <= 0 {
		return fmt.Errorf("grow: bad rate %q", args[0])
	}
	const chunk = 4 << 20
	maxChunks := int(^uint(0) >> 1)
	if len(args) == 3 {
		m, err := strconv.Atoi(args[2])
		if err != nil || m < chunk>>20 {
			return fmt.Errorf("grow: bad MAX_MIB %q (at least %d)", args[2], chunk>>20)
		}
		maxChunks = m / (chunk >> 20)
	}
	var chunks [][]byte
	rng := rand.New(rand.NewPCG(3, 4))
	var touched float64
	start, lastReport := time.Now(), time.Now()
	for {
		for want := min(maxChunks, int(time.Since(start).Seconds()*float64(rate)*(1<<20)/chunk)); len(chunks) < want; {
			c := make([]byte, chunk)
			for p := 0; p < chunk; p += 4096 {
				for i := p; i < p+2048; i += 8 {
					binary.LittleEndian.PutUint64(c[i:], rng.Uint64())
				}
			}
			chunks = append(chunks, c)
			touched += chunk >> 20
		}
		for _, c := range chunks {
			for p := 0; p < chunk; p += 4096 {
				c[p]++
			}
			touched += chunk >> 20
			if time.Since(lastReport) >= 100*time.Millisecond {
				lastReport = time.Now()
				if err := os.WriteFile(args[1], []byte(strconv.FormatFloat(touched, 'f', 0, 64)), 0o644); err != nil {
					return err
				}
				break // back to growing
			}
		}
	}
}

// inCgroup writes its own pid into the cgroup.procs of each directory
// given before "--", then execs the command after it: everything the
// command forks starts inside the cgroups.
func inCgroup(args []string) error {
	var dirs []string
	for i, a := range args {
		if a == "--" {
			if i+1 >= len(args) {
				return errors.New("incgroup: no command after --")
			}
			for _, d := range dirs {
				if err := writeFile(filepath.Join(d, "cgroup.procs"), strconv.Itoa(os.Getpid())); err != nil {
					return err
				}
			}
			path, err := exec.LookPath(args[i+1])
			if err != nil {
				return err
			}
			return syscall.Exec(path, args[i+1:], os.Environ())
		}
		dirs = append(dirs, a)
	}
	return errors.New("incgroup DIR... -- COMMAND [ARG...]")
}
