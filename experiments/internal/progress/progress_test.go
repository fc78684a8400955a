package progress

import (
	"strings"
	"testing"
	"time"
)

func TestPlainLines(t *testing.T) {
	var out strings.Builder
	b := NewWriter(&out, false, "build", 100)
	clock := b.start
	b.now = func() time.Time { return clock }
	b.Add(10) // at once: no line
	clock = clock.Add(Interval)
	b.Add(15) // 25 of 100 after one interval
	clock = clock.Add(Interval / 2)
	b.Report(30, 100) // within the interval: no line
	clock = clock.Add(Interval)
	b.Report(50, 200) // the total changed
	b.Done()
	b.Add(1) // after Done: nothing
	want := "build: 25/100 (25%), 5s, about 15s left\n" +
		"build: 50/200 (25%), 13s, about 38s left\n" +
		"build: done, 50 steps in 13s\n"
	if out.String() != want {
		t.Errorf("got\n%s\nwant\n%s", out.String(), want)
	}
}

func TestShortWorkIsSilent(t *testing.T) {
	var out strings.Builder
	b := NewWriter(&out, false, "quick", 3)
	b.Add(3)
	b.Done()
	if out.Len() != 0 {
		t.Errorf("short work printed %q", out.String())
	}
}

func TestTerminalBar(t *testing.T) {
	var out strings.Builder
	b := NewWriter(&out, true, "train", 4)
	for range 4 {
		b.Add(1)
		time.Sleep(110 * time.Millisecond) // past the bar's redraw throttle
	}
	b.Done()
	if !strings.Contains(out.String(), "train") || !strings.Contains(out.String(), "/4)") {
		t.Errorf("bar output %q; want the description and the count", out.String())
	}
}
