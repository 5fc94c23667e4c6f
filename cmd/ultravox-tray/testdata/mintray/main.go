// Command mintray is the smallest Fyne tray app: our idle icon, a one-item
// menu, nothing else. BenchmarkIdleCost runs it beside ultravox-tray as the
// baseline for idle CPU and memory.
package main

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/driver/desktop"

	"github.com/ultravox-tray/ultravox-tray/assets"
)

func main() {
	a := app.NewWithID("io.github.ultravox-tray.mintray")
	desk, ok := a.(desktop.App)
	if !ok {
		panic("no system tray support")
	}
	desk.SetSystemTrayIcon(fyne.NewStaticResource("idle.png", assets.MustIcon(assets.Idle, assets.TraySize, false)))
	quit := fyne.NewMenuItem("Quit", func() { a.Quit() })
	quit.IsQuit = true
	desk.SetSystemTrayMenu(fyne.NewMenu("mintray", quit))
	a.Run()
}
