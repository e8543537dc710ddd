"""Analytics on telemetry series: statistical process control, anomalies and forecasts."""
