package main

import (
	"fmt"
	"image/color"
	"math"
	"os"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"
)

// The chart a reader looks at first: one panel per figure, bars grouped by configuration
// (one short label per group), one bar per server with a min–max whisker over the
// rounds, and above each gowsk bar its ratio to the best peer of the group (every panel
// is "lower is better"). The legend is one column beside the panels, outside every plot,
// so it never covers a bar.

// chartPanel is one figure: which summaries it shows, the value, its spread, its group.
type chartPanel struct {
	title string
	pick  func(s summary) (v, lo, hi float64, group string, ok bool)
}

// shortCount writes 1000 as 1k and 10000 as 10k.
func shortCount(n int) string {
	if n >= 1000 && n%1000 == 0 {
		return fmt.Sprintf("%dk", n/1000)
	}
	return fmt.Sprint(n)
}

// shortBytes writes 4096 as 4 KiB.
func shortBytes(n int) string {
	if n >= 1024 && n%1024 == 0 {
		return fmt.Sprintf("%d KiB", n/1024)
	}
	return fmt.Sprintf("%d B", n)
}

func echoGroup(s summary) string {
	return fmt.Sprintf("%s × %s", shortCount(s.Conns), shortBytes(s.Payload))
}

var chartPanels = []chartPanel{
	{"server CPU µs per request, echo (closed loop)", func(s summary) (float64, float64, float64, string, bool) {
		return s.CPUPerReq, s.CPUPerReqMin, s.CPUPerReqMax, echoGroup(s), s.Suite == "echo"
	}},
	{"server RSS KB per idle connection", func(s summary) (float64, float64, float64, string, bool) {
		return s.RSSPerConnKB, s.RSSPerConnMin, s.RSSPerConnMax, shortCount(s.Conns) + " idle", s.Suite == "idle"
	}},
	{"server RSS peak MB, echo (median over rounds)", func(s summary) (float64, float64, float64, string, bool) {
		v := float64(s.RSSPeakKB) / 1024
		return v, v, v, echoGroup(s), s.Suite == "echo"
	}},
	{"p99 latency µs, open loop (half the slowest server's closed-loop rate)", func(s summary) (float64, float64, float64, string, bool) {
		return s.P99us, s.P99usMin, s.P99usMax, echoGroup(s), s.Suite == "open"
	}},
	{"close µs per pending receive IRP", func(s summary) (float64, float64, float64, string, bool) {
		return s.CloseUsPerPendingIRP, s.CloseUsPerPendingIRP, s.CloseUsPerPendingIRP,
			fmt.Sprintf("K=%d", s.Pending), s.Suite == "close" && s.Server != "raw"
	}},
}

// chartBar is one server's bar in one group.
type chartBar struct{ v, lo, hi float64 }

// groupedBars is a plot.Plotter (and DataRanger) drawing the bars in data coordinates,
// so that bars, whiskers and labels line up whatever the canvas size.
type groupedBars struct {
	groups  []string
	servers []string
	bars    map[[2]int]chartBar // (server, group)
	colors  map[string]color.Color
}

const barGroupWidth = 0.8 // of one group's unit on the x axis

func (g *groupedBars) barX(si, gi int) (x, half float64) {
	w := barGroupWidth / float64(len(g.servers))
	return float64(gi) - barGroupWidth/2 + w*(float64(si)+0.5), w / 2 * 0.9
}

// best is the lowest value of a peer (neither stdlib nor gowsk's) in group gi, 0 if none.
func (g *groupedBars) best(gi int) float64 {
	b := math.Inf(1)
	for si, srv := range g.servers {
		if v, ok := g.bars[[2]int{si, gi}]; ok && srv != "stdlib" && !isGowsk(srv) && v.v > 0 {
			b = math.Min(b, v.v)
		}
	}
	if math.IsInf(b, 1) {
		return 0
	}
	return b
}

func (g *groupedBars) DataRange() (xmin, xmax, ymin, ymax float64) {
	for _, b := range g.bars {
		ymax = math.Max(ymax, math.Max(b.v, b.hi))
	}
	if ymax == 0 {
		ymax = 1
	}
	return -0.5, float64(len(g.groups)) - 0.5, 0, ymax * 1.3 // room for the ratio labels
}

func (g *groupedBars) Plot(c draw.Canvas, p *plot.Plot) {
	tx, ty := p.Transforms(&c)
	whisker := draw.LineStyle{Color: color.Black, Width: vg.Points(0.8)}
	label := draw.TextStyle{Color: color.Black, Font: p.X.Tick.Label.Font, Handler: p.X.Tick.Label.Handler,
		XAlign: draw.XLeft, YAlign: draw.YCenter, Rotation: math.Pi / 2}
	label.Font.Size = vg.Points(8)
	for gi := range g.groups {
		best := g.best(gi)
		for si, srv := range g.servers {
			b, ok := g.bars[[2]int{si, gi}]
			if !ok {
				continue
			}
			x, half := g.barX(si, gi)
			x0, x1 := tx(x-half), tx(x+half)
			y0, y1 := ty(0), ty(b.v)
			c.FillPolygon(g.colors[srv], []vg.Point{{X: x0, Y: y0}, {X: x1, Y: y0}, {X: x1, Y: y1}, {X: x0, Y: y1}})
			if b.hi > b.lo {
				xm, cap := tx(x), (x1-x0)/4
				c.StrokeLine2(whisker, xm, ty(b.lo), xm, ty(b.hi))
				c.StrokeLine2(whisker, xm-cap, ty(b.lo), xm+cap, ty(b.lo))
				c.StrokeLine2(whisker, xm-cap, ty(b.hi), xm+cap, ty(b.hi))
			}
			if isGowsk(srv) && best > 0 {
				// Upright above its own bar and whisker: narrower than the bar, so it
				// never crosses a neighbour.
				y := ty(math.Max(b.v, b.hi)) + vg.Points(3)
				c.FillText(label, vg.Point{X: tx(x), Y: y}, fmt.Sprintf("%.2f×", b.v/best))
			}
		}
	}
}

// chartColors is gonum's soft palette, then its dark one (starting with green: the dark
// red is too close to the soft red): fourteen servers before a colour repeats.
var chartColors = append(append(append([]color.Color{}, plotutil.SoftColors...), plotutil.DarkColors[1:]...),
	plotutil.DarkColors[0])

// swatch is a legend thumbnail: a filled square of the server's colour.
type swatch struct{ c color.Color }

func (s swatch) Thumbnail(c *draw.Canvas) {
	r := c.Rectangle
	c.FillPolygon(s.c, []vg.Point{r.Min, {X: r.Max.X, Y: r.Min.Y}, r.Max, {X: r.Min.X, Y: r.Max.Y}})
}

// buildPanel makes one panel's plot; nil when no summary belongs to it.
func buildPanel(sums []summary, cp chartPanel, colors map[string]color.Color) *plot.Plot {
	g := &groupedBars{bars: map[[2]int]chartBar{}, colors: colors}
	gIdx, sIdx := map[string]int{}, map[string]int{}
	for _, s := range sums {
		v, lo, hi, group, ok := cp.pick(s)
		if !ok {
			continue
		}
		if _, ok := gIdx[group]; !ok {
			gIdx[group] = len(g.groups)
			g.groups = append(g.groups, group)
		}
		if _, ok := sIdx[s.Server]; !ok {
			sIdx[s.Server] = len(g.servers)
			g.servers = append(g.servers, s.Server)
		}
		g.bars[[2]int{sIdx[s.Server], gIdx[group]}] = chartBar{v, lo, hi}
	}
	if len(g.groups) == 0 {
		return nil
	}
	p := plot.New()
	p.Title.Text = cp.title
	p.Title.TextStyle.Font.Size = vg.Points(11)
	p.Add(g)
	p.NominalX(g.groups...)
	p.X.Tick.Label.Font.Size = vg.Points(9)
	p.Y.Min = 0
	p.Add(gridY{})
	return p
}

// gridY draws light horizontal lines at the y ticks, behind nothing (added after the bars
// only so the bars' DataRange decides the axis).
type gridY struct{}

func (gridY) Plot(c draw.Canvas, p *plot.Plot) {
	_, ty := p.Transforms(&c)
	sty := draw.LineStyle{Color: color.Gray{Y: 215}, Width: vg.Points(0.4)}
	for _, t := range p.Y.Tick.Marker.Ticks(p.Y.Min, p.Y.Max) {
		if t.Label == "" {
			continue
		}
		y := ty(t.Value)
		c.StrokeLine2(sty, c.Min.X, y, c.Max.X, y)
	}
}

// writeSVG renders every panel with data, stacked, and the legend beside them.
func writeSVG(path string, sums []summary) error {
	// A server keeps its colour from chart to chart: the colour is its place among the
	// registered servers, not in this run.
	palette := map[string]int{}
	for k, name := range append(serverNames(), "raw", "external") {
		palette[name] = k
	}
	colors := map[string]color.Color{}
	var servers []string
	for _, s := range sums {
		if _, ok := colors[s.Server]; !ok {
			k, known := palette[s.Server]
			if !known {
				k = len(palette) + len(servers)
			}
			colors[s.Server] = chartColors[k%len(chartColors)]
			servers = append(servers, s.Server)
		}
	}
	var plots [][]*plot.Plot
	shown := map[string]bool{} // the legend names only servers that have a bar
	for _, cp := range chartPanels {
		if p := buildPanel(sums, cp, colors); p != nil {
			plots = append(plots, []*plot.Plot{p})
			for _, s := range sums {
				if _, _, _, _, ok := cp.pick(s); ok {
					shown[s.Server] = true
				}
			}
		}
	}
	if len(plots) == 0 {
		plots = [][]*plot.Plot{{plot.New()}}
	}
	const legendW = 2.1 * vg.Inch
	width, panelH := 10*vg.Inch, 3.2*vg.Inch
	img := vgsvg.New(width, panelH*vg.Length(len(plots)))
	dc := draw.New(img)
	// White background: a transparent SVG is unreadable on a dark page.
	dc.FillPolygon(color.White, []vg.Point{dc.Min, {X: dc.Max.X, Y: dc.Min.Y}, dc.Max, {X: dc.Min.X, Y: dc.Max.Y}})
	left := draw.Crop(dc, 0, -legendW, 0, 0)
	tiles := draw.Tiles{Rows: len(plots), Cols: 1, PadX: vg.Millimeter * 4, PadY: vg.Millimeter * 8,
		PadTop: vg.Millimeter * 4, PadBottom: vg.Millimeter * 4, PadLeft: vg.Millimeter * 4, PadRight: vg.Millimeter * 4}
	canvases := plot.Align(plots, tiles, left)
	for r := range plots {
		plots[r][0].Draw(canvases[r][0])
	}
	leg := plot.NewLegend()
	leg.Top, leg.Left = true, true
	leg.TextStyle.Font.Size = vg.Points(10)
	leg.ThumbnailWidth = vg.Points(12)
	leg.Padding = vg.Points(5)
	for _, srv := range servers {
		if shown[srv] {
			leg.Add(srv, swatch{colors[srv]})
		}
	}
	leg.Add("")
	leg.Add("whisker: min–max")
	leg.Add("  over the rounds")
	leg.Add("1.09×: gowsk's bar")
	leg.Add("  ÷ the best peer's")
	leg.Add("lower is better")
	right := draw.Crop(dc, width-legendW+vg.Millimeter*2, 0, 0, -vg.Millimeter*8)
	leg.Draw(right)
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := img.WriteTo(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
