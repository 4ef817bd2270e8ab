"""Chart tests: see tests/chart/render.py for how the chart is rendered."""
