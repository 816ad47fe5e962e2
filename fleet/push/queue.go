package push

import "sync"

// queue is the bounded buffer of compressed snapshots, oldest first. The
// snapshot loop appends, the sender peeks and pops; when an append would
// pass the bound the oldest snapshots make room and are counted as drops.
type queue struct {
	mu    sync.Mutex
	items []item
	bytes int
	max   int
	seq   uint64
}

type item struct {
	seq  uint64
	data []byte
}

// push appends data and returns how many snapshots were dropped to keep
// the buffer within its bound (data itself, when it alone is larger).
func (q *queue) push(data []byte) (dropped int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(data) > q.max {
		return 1
	}
	for q.bytes+len(data) > q.max && len(q.items) > 0 {
		q.bytes -= len(q.items[0].data)
		q.items[0] = item{}
		q.items = q.items[1:]
		dropped++
	}
	q.seq++
	q.items = append(q.items, item{seq: q.seq, data: data})
	q.bytes += len(data)
	return dropped
}

// peek returns the oldest snapshot without removing it.
func (q *queue) peek() (item, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.items) == 0 {
		return item{}, false
	}
	return q.items[0], true
}

// pop removes the oldest snapshot if it is still seq: while it was being
// sent, push may have dropped it to make room.
func (q *queue) pop(seq uint64) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.items) > 0 && q.items[0].seq == seq {
		q.bytes -= len(q.items[0].data)
		q.items[0] = item{}
		q.items = q.items[1:]
	}
}

// size is the number of snapshots and their bytes.
func (q *queue) size() (n, bytes int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.items), q.bytes
}
