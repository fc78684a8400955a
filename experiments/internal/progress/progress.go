// Package progress shows how far a long piece of work has got, on standard error: a progress bar
// (github.com/schollz/progressbar) when standard error is a terminal, and otherwise a plain line
// every Interval, so a log file or CI output gets a few readable lines instead of a bar redrawn
// thousands of times. Work shorter than Interval prints nothing in plain mode.
//
//	bar := progress.New("ann: build", n)
//	for i := range n {
//		... one step ...
//		bar.Add(1)
//	}
//	bar.Done()
//
// Library functions take a callback func(done, total int); Bar.Report is one.
package progress

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// Interval is the time between two plain progress lines.
const Interval = 5 * time.Second

// Bar is the progress of one piece of work of a known number of steps. Its methods are safe for
// concurrent use.
type Bar struct {
	mu    sync.Mutex
	what  string
	total int
	done  int
	start time.Time
	w     io.Writer
	bar   *progressbar.ProgressBar // nil in plain mode
	last  time.Time                // last plain line
	lines int                      // plain lines written
	ended bool
	now   func() time.Time
}

// New starts showing the progress of total steps of the work named what, on standard error.
func New(what string, total int) *Bar {
	return NewWriter(os.Stderr, term.IsTerminal(int(os.Stderr.Fd())), what, total)
}

// NewWriter is New writing to w, with a bar when terminal is true and plain lines otherwise.
func NewWriter(w io.Writer, terminal bool, what string, total int) *Bar {
	b := &Bar{what: what, total: max(total, 0), w: w, now: time.Now}
	b.start = b.now()
	b.last = b.start
	if terminal {
		b.bar = progressbar.NewOptions(b.total,
			progressbar.OptionSetWriter(w),
			progressbar.OptionSetDescription(what),
			progressbar.OptionShowCount(),
			progressbar.OptionSetElapsedTime(true),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionSetWidth(30),
			progressbar.OptionClearOnFinish(),
		)
	}
	return b
}

// Add records n more steps done.
func (b *Bar) Add(n int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.setLocked(b.done+n, b.total)
}

// Report records done of total steps; it is the callback library functions take
// (func(done, total int)), and may change the total.
func (b *Bar) Report(done, total int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.setLocked(done, total)
}

func (b *Bar) setLocked(done, total int) {
	if b.ended {
		return
	}
	if total != b.total {
		b.total = max(total, 0)
		if b.bar != nil {
			b.bar.ChangeMax(b.total)
		}
	}
	b.done = done
	if b.bar != nil {
		b.bar.Set(done)
		return
	}
	if t := b.now(); t.Sub(b.last) >= Interval {
		b.last = t
		b.lines++
		fmt.Fprintf(b.w, "%s: %s\n", b.what, b.status(t))
	}
}

// status is "1200/5000 (24%), 6s, about 19s left".
func (b *Bar) status(t time.Time) string {
	el := t.Sub(b.start)
	s := fmt.Sprintf("%d/%d", b.done, b.total)
	if b.total > 0 {
		s += fmt.Sprintf(" (%d%%)", 100*b.done/b.total)
	}
	s += ", " + el.Round(time.Second).String()
	if b.done > 0 && b.done < b.total {
		left := time.Duration(float64(el) / float64(b.done) * float64(b.total-b.done))
		s += ", about " + left.Round(time.Second).String() + " left"
	}
	return s
}

// Done ends the display: the bar is cleared; in plain mode a last line gives the total time when
// progress lines were written.
func (b *Bar) Done() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ended {
		return
	}
	b.ended = true
	if b.bar != nil {
		b.bar.Finish()
		return
	}
	if b.lines > 0 {
		fmt.Fprintf(b.w, "%s: done, %d steps in %s\n", b.what, b.done, b.now().Sub(b.start).Round(time.Second))
	}
}
