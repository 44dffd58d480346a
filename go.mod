module github.com/gowsk/gowsk

go 1.26.0
