// chan64.go: the chan workload (../shared/peers/README.md, W3) with 64
// producer and 64 consumer goroutines on GOMAXPROCS=2, the Go side of
// sluice-bench's `chan 2 64p64c-jobs`: 10,000,000 u64 through one channel
// of capacity 64; producer k of 64 sends [k*M/64, (k+1)*M/64); consumers
// receive until the channel is closed and empty, summing (check
// 49999995000000); timed from channel creation to the last consumer done.
// Consumers are started before producers, as sluice-bench spawns them.
// Standard library only, so it needs no module file:
//
//	apt-get install golang-go   # Debian's Go
//	GOCACHE=/tmp/go-cache go run sluice/bench/go/chan64.go
//
// It prints the peers' result line (peer=go param=64p64c) on stdout and, on
// stderr, the sum check and the process's peak OS thread count (Threads: of
// /proc/self/status, sampled every 1 ms by a goroutine, as sluice-bench's
// sampler thread does). env: REPS (default 5), WARMUP (default 1),
// GOMAXPROCS (default 2 here).
package main

import (
	"bytes"
	"fmt"
	"os"
	"runtime"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

const (
	msgs     = 10_000_000
	capacity = 64
	side     = 64
	expect   = msgs * (msgs - 1) / 2
)

func envInt(k string, d int) int {
	if v, err := strconv.Atoi(os.Getenv(k)); err == nil {
		return v
	}
	return d
}

// threads returns Threads: of /proc/self/status, or 0 if unreadable.
func threads() int {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	i := bytes.Index(b, []byte("\nThreads:"))
	if i < 0 {
		return 0
	}
	f := bytes.Fields(b[i+9:])
	if len(f) == 0 {
		return 0
	}
	n, _ := strconv.Atoi(string(f[0]))
	return n
}

// once runs the workload and returns its seconds and sum.
func once() (float64, uint64) {
	t0 := time.Now()
	ch := make(chan uint64, capacity)
	var pw, cw sync.WaitGroup
	sums := make([]uint64, side)
	for k := 0; k < side; k++ {
		cw.Add(1)
		go func(k int) {
			defer cw.Done()
			var s uint64
			for v := range ch {
				s += v
			}
			sums[k] = s
		}(k)
	}
	for k := uint64(0); k < side; k++ {
		pw.Add(1)
		go func(k uint64) {
			defer pw.Done()
			for i := k * msgs / side; i < (k+1)*msgs/side; i++ {
				ch <- i
			}
		}(k)
	}
	pw.Wait()
	close(ch)
	cw.Wait()
	s := time.Since(t0).Seconds()
	var sum uint64
	for _, v := range sums {
		sum += v
	}
	return s, sum
}

func main() {
	if os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(2)
	}
	procs := runtime.GOMAXPROCS(0)
	var peak atomic.Int64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			if n := int64(threads()); n > peak.Load() {
				peak.Store(n)
			}
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	for i := envInt("WARMUP", 1); i > 0; i-- {
		once()
	}
	reps := envInt("REPS", 5)
	if reps < 1 {
		reps = 1
	}
	t := make([]float64, reps)
	ok := true
	for i := range t {
		var sum uint64
		t[i], sum = once()
		ok = ok && sum == expect
	}
	close(stop)
	<-sampled
	sort.Float64s(t)
	med := t[reps/2]
	if reps%2 == 0 {
		med = (t[reps/2-1] + t[reps/2]) / 2
	}
	verdict := "ok"
	if !ok {
		verdict = "MISMATCH"
	}
	fmt.Fprintf(os.Stderr, "# check chan 64p64c-sum %s\n", verdict)
	fmt.Fprintf(os.Stderr, "# chan 64p64c: peak OS threads %d: Threads: of /proc/self/status, "+
		"sampled every 1 ms by a goroutine from start to the last repetition\n", peak.Load())
	fmt.Printf("peer=go workload=chan threads=%d param=64p64c seconds=%.6f metric=%.3f unit=Mmsg/s\n",
		procs, med, msgs/med/1e6)
	if !ok {
		os.Exit(1)
	}
}
