package main

import "bytes"

// maxLine is the longest command line the -listen server takes, newline excluded.
const maxLine = 4096

// lineSplitter cuts the received byte stream into lines with a bound: a line longer than
// maxLine is reported once as too long and then skipped up to its newline (the server
// resynchronises on the next line rather than closing), so a peer cannot make the
// server hold more than maxLine bytes of one line.
type lineSplitter struct {
	partial  []byte // the start of the current line (at most maxLine bytes)
	skipping bool   // inside a line already reported as too long
}

// line is one framed input: the text without its newline (and without a trailing '\r',
// for `nc -C` and telnet), or tooLong.
type line struct {
	text    string
	tooLong bool
}

// feed takes the next received bytes and returns the lines they complete, in order.
func (l *lineSplitter) feed(p []byte) []line {
	var out []line
	for len(p) > 0 {
		nl := bytes.IndexByte(p, '\n')
		if nl < 0 {
			if !l.skipping {
				if len(l.partial)+len(p) > maxLine {
					out = append(out, line{tooLong: true})
					l.partial = l.partial[:0]
					l.skipping = true
				} else {
					l.partial = append(l.partial, p...)
				}
			}
			return out
		}
		chunk := p[:nl]
		p = p[nl+1:]
		if l.skipping { // the end of a line already reported
			l.skipping = false
			continue
		}
		if len(l.partial)+len(chunk) > maxLine {
			out = append(out, line{tooLong: true})
			l.partial = l.partial[:0]
			continue
		}
		text := string(append(l.partial, chunk...))
		l.partial = l.partial[:0]
		if n := len(text); n > 0 && text[n-1] == '\r' {
			text = text[:n-1]
		}
		out = append(out, line{text: text})
	}
	return out
}
