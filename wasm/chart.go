//go:build js && wasm

package main

import (
	"strconv"
	"syscall/js"
	"time"

	"github.com/tokenlab/tokenlab/shared/client"
	"github.com/tokenlab/tokenlab/shared/lifetime"
)

// The chart's drawing units: the SVG scales them to its box (viewBox), so
// the page's CSS alone decides its size on a phone or a desktop.
const (
	chartWidth  = 1000
	laneTop     = 14 // room above the lanes for the markers' heads
	laneHeight  = 26
	laneGap     = 8
	chartHeight = laneTop + 2*laneHeight + laneGap + 4
)

const svgNS = "http://www.w3.org/2000/svg"

// chart draws a lifetime.Chart into an <svg>: one bar per token in two
// lanes, its warning lead shaded at its end, a tick per event, and the
// now line. Every element carries data attributes (jti, trigger, kind), so
// tests read the drawing as a person sees it.
type chart struct {
	svg, axis js.Value
}

func newChart(svg, axis js.Value) *chart {
	setAttr(svg, "viewBox", "0 0 "+strconv.Itoa(chartWidth)+" "+strconv.Itoa(chartHeight))
	setAttr(svg, "preserveAspectRatio", "none")
	return &chart{svg: svg, axis: axis}
}

func svgEl(tag string, attrs ...string) js.Value {
	e := document.Call("createElementNS", svgNS, tag)
	for i := 0; i+1 < len(attrs); i += 2 {
		e.Call("setAttribute", attrs[i], attrs[i+1])
	}
	return e
}

func x(f float64) string { return strconv.FormatFloat(f*chartWidth, 'f', 1, 64) }

// draw replaces the drawing with c. A chart holds at most a dozen bars and
// their events, so a redraw once a second costs nothing worth saving.
func (ch *chart) draw(c lifetime.Chart) {
	var nodes []any
	for _, b := range c.Bars {
		y := laneTop + b.Lane*(laneHeight+laneGap)
		class := "bar"
		if b.Current {
			class += " current"
		}
		g := svgEl("g", "class", class, "data-jti", b.JTI, "data-trigger", b.Trigger,
			"data-start", strconv.FormatFloat(b.Start, 'f', 4, 64), "data-end", strconv.FormatFloat(b.End, 'f', 4, 64))
		width := max(b.End-b.Start, 0.002)
		body := svgEl("rect", "class", "life", "x", x(b.Start), "y", strconv.Itoa(y), "width", x(width), "height", strconv.Itoa(laneHeight), "rx", "4")
		title := svgEl("title")
		title.Set("textContent", b.Trigger+" · "+b.JTI)
		body.Call("append", title)
		g.Call("append", body)
		if b.Warn < b.End {
			g.Call("append", svgEl("rect", "class", "lead", "x", x(b.Warn), "y", strconv.Itoa(y), "width", x(b.End-b.Warn), "height", strconv.Itoa(laneHeight), "rx", "4"))
		}
		nodes = append(nodes, g)
	}
	for _, m := range c.Markers {
		g := svgEl("g", "class", "marker "+m.Kind, "data-kind", m.Kind, "data-label", m.Label)
		g.Call("append", svgEl("line", "x1", x(m.X), "x2", x(m.X), "y1", "2", "y2", strconv.Itoa(laneTop+2*laneHeight+laneGap)))
		// A warning's head sits at the foot of its line: the renewal it
		// sets off follows within milliseconds, at the same place.
		cy := "6"
		if m.Kind == lifetime.KindWarning {
			cy = strconv.Itoa(laneTop + 2*laneHeight + laneGap - 4)
		}
		g.Call("append", svgEl("circle", "cx", x(m.X), "cy", cy, "r", "4"))
		title := svgEl("title")
		title.Set("textContent", m.Kind+": "+m.Label)
		g.Call("append", title)
		nodes = append(nodes, g)
	}
	bottom := strconv.Itoa(chartHeight)
	nodes = append(nodes, svgEl("line", "class", "now", "data-x", strconv.FormatFloat(c.Now, 'f', 4, 64), "x1", x(c.Now), "x2", x(c.Now), "y1", "0", "y2", bottom))
	ch.svg.Call("replaceChildren", nodes...)
	// The axis is text in the page, not in the SVG, which stretches to
	// its box and would stretch letters with it.
	span := c.To.Sub(c.From)
	axis := "the last " + client.Duration(time.Duration(c.Now*float64(span))) + " to now, and " + client.Duration(time.Duration((1-c.Now)*float64(span))) + " ahead"
	if c.Earlier > 0 {
		axis += " · " + strconv.Itoa(c.Earlier) + " earlier tokens not shown"
	}
	setText(ch.axis, axis)
}
