package main

import (
	"fmt"
	"os"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"
)

// writeSVG charts server CPU µs/req (echo runs), RSS KB/conn (echo and idle
// runs) and, when the close suite ran, close µs per pending IRP, per server,
// one bar group per configuration.
func writeSVG(path string, sums []summary) error {
	p1, err := barChart(sums, "server CPU µs/req (echo)", func(s summary) (float64, bool) {
		return s.CPUPerReq, s.Suite == "echo"
	})
	if err != nil {
		return err
	}
	p2, err := barChart(sums, "server RSS KB/conn", func(s summary) (float64, bool) {
		return s.RSSPerConnKB, s.Suite == "echo" || s.Suite == "idle"
	})
	if err != nil {
		return err
	}
	plots := [][]*plot.Plot{{p1}, {p2}}
	if slices.ContainsFunc(sums, func(s summary) bool { return s.Suite == "close" }) {
		p3, err := barChart(sums, "close µs per pending receive IRP", func(s summary) (float64, bool) {
			return s.CloseUsPerPendingIRP, s.Suite == "close"
		})
		if err != nil {
			return err
		}
		plots = append(plots, []*plot.Plot{p3})
	}
	img := vgsvg.New(9*vg.Inch, vg.Length(4*len(plots))*vg.Inch)
	tiles := draw.Tiles{Rows: len(plots), Cols: 1, PadX: vg.Millimeter * 4, PadY: vg.Millimeter * 6,
		PadTop: vg.Millimeter * 4, PadBottom: vg.Millimeter * 4, PadLeft: vg.Millimeter * 4, PadRight: vg.Millimeter * 4}
	canvases := plot.Align(plots, tiles, draw.New(img))
	for r := range plots {
		plots[r][0].Draw(canvases[r][0])
	}
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

func barChart(sums []summary, title string, pick func(summary) (float64, bool)) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = title
	var cfgs []string
	cfgIdx := map[string]int{}
	var servers []string
	srvIdx := map[string]int{}
	vals := map[[2]int]float64{}
	for _, s := range sums {
		v, ok := pick(s)
		if !ok {
			continue
		}
		c := fmt.Sprintf("%s c=%d p=%d", s.Suite, s.Conns, s.Payload)
		if s.Suite == "close" {
			c = fmt.Sprintf("close K=%d", s.Pending)
		}
		if _, ok := cfgIdx[c]; !ok {
			cfgIdx[c] = len(cfgs)
			cfgs = append(cfgs, c)
		}
		if _, ok := srvIdx[s.Server]; !ok {
			srvIdx[s.Server] = len(servers)
			servers = append(servers, s.Server)
		}
		vals[[2]int{srvIdx[s.Server], cfgIdx[c]}] = v
	}
	if len(cfgs) == 0 {
		return p, nil
	}
	w := vg.Points(60 / float64(len(servers)+1))
	for si, srv := range servers {
		ys := make(plotter.Values, len(cfgs))
		for ci := range cfgs {
			ys[ci] = vals[[2]int{si, ci}]
		}
		b, err := plotter.NewBarChart(ys, w)
		if err != nil {
			return nil, err
		}
		b.Offset = w * vg.Length(si-len(servers)/2)
		b.Color = plotutil.Color(si)
		b.LineStyle.Width = 0
		p.Add(b)
		p.Legend.Add(srv, b)
	}
	p.Legend.Top = true
	p.NominalX(cfgs...)
	return p, nil
}
