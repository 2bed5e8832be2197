using System.Globalization;
using System.Security;
using System.Text;
using OptimizedCache.Monitoring.Guard;

namespace OptimizedCache.Monitoring.Report;

/// <summary>A small line-chart writer: axes, grid, one polyline per series, a legend. Standalone SVG, no scripts.</summary>
public static class SvgChart
{
    private const int Width = 720;
    private const int Height = 300;
    private const int Left = 64;
    private const int Right = 16;
    private const int Top = 36;
    private const int Bottom = 56;

    private static readonly string[] Colors = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"];

    /// <summary>Renders a chart; an empty chart says "no data".</summary>
    public static string Render(ChartData chart, double? threshold = null, string? thresholdLabel = null)
    {
        ArgumentNullException.ThrowIfNull(chart);
        var points = chart.Series.SelectMany(s => s.Points).ToList();
        var svg = new StringBuilder();
        svg.Append(Invariant($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{Height}\" viewBox=\"0 0 {Width} {Height}\" font-family=\"sans-serif\" font-size=\"11\">\n"));
        svg.Append(Invariant($"<rect width=\"{Width}\" height=\"{Height}\" fill=\"#ffffff\"/>\n"));
        svg.Append(Invariant($"<text x=\"{Left}\" y=\"20\" font-size=\"14\" font-weight=\"bold\">{Escape(chart.Title)} ({Escape(chart.Unit)})</text>\n"));
        var plotW = Width - Left - Right;
        var plotH = Height - Top - Bottom;
        svg.Append(Invariant($"<rect x=\"{Left}\" y=\"{Top}\" width=\"{plotW}\" height=\"{plotH}\" fill=\"none\" stroke=\"#999\"/>\n"));
        if (points.Count == 0)
        {
            svg.Append(Invariant($"<text x=\"{Left + plotW / 2}\" y=\"{Top + plotH / 2}\" text-anchor=\"middle\" fill=\"#777\">no data</text>\n"));
            svg.Append("</svg>\n");
            return svg.ToString();
        }

        var minX = points.Min(p => p[0]);
        var maxX = points.Max(p => p[0]);
        if (maxX <= minX)
        {
            maxX = minX + 1;
        }

        var minY = Math.Min(0, points.Min(p => p[1]));
        var maxY = Math.Max(points.Max(p => p[1]), threshold ?? double.MinValue);
        maxY = NiceCeiling(maxY <= minY ? minY + 1 : maxY);
        double X(double x) => Left + (x - minX) / (maxX - minX) * plotW;
        double Y(double y) => Top + plotH - (y - minY) / (maxY - minY) * plotH;

        for (var i = 0; i <= 4; i++)
        {
            var v = minY + (maxY - minY) * i / 4;
            var y = Y(v);
            svg.Append(Invariant($"<line x1=\"{Left}\" y1=\"{y:0.#}\" x2=\"{Left + plotW}\" y2=\"{y:0.#}\" stroke=\"#eee\"/>\n"));
            svg.Append(Invariant($"<text x=\"{Left - 6}\" y=\"{y + 4:0.#}\" text-anchor=\"end\">{Format(v)}</text>\n"));
        }

        for (var i = 0; i <= 4; i++)
        {
            var t = minX + (maxX - minX) * i / 4;
            var label = DateTimeOffset.FromUnixTimeMilliseconds((long)(t * 1000)).UtcDateTime.ToString(maxX - minX > 86_400 ? "MM-dd HH:mm" : "HH:mm:ss", CultureInfo.InvariantCulture);
            svg.Append(Invariant($"<text x=\"{X(t):0.#}\" y=\"{Top + plotH + 16}\" text-anchor=\"middle\">{label}</text>\n"));
        }

        if (threshold is { } th)
        {
            svg.Append(Invariant($"<line x1=\"{Left}\" y1=\"{Y(th):0.#}\" x2=\"{Left + plotW}\" y2=\"{Y(th):0.#}\" stroke=\"#d62728\" stroke-dasharray=\"6 4\"/>\n"));
            svg.Append(Invariant($"<text x=\"{Left + plotW - 4}\" y=\"{Y(th) - 4:0.#}\" text-anchor=\"end\" fill=\"#d62728\">{Escape(thresholdLabel ?? Format(th))}</text>\n"));
        }

        var legendX = Left;
        for (var s = 0; s < chart.Series.Count; s++)
        {
            var series = chart.Series[s];
            var color = Colors[s % Colors.Length];
            if (series.Points.Count == 1)
            {
                var p = series.Points[0];
                svg.Append(Invariant($"<circle class=\"series\" cx=\"{X(p[0]):0.#}\" cy=\"{Y(p[1]):0.#}\" r=\"3\" fill=\"{color}\"/>\n"));
            }
            else if (series.Points.Count > 1)
            {
                svg.Append(Invariant($"<polyline class=\"series\" fill=\"none\" stroke=\"{color}\" stroke-width=\"2\" points=\""));
                foreach (var p in series.Points)
                {
                    svg.Append(Invariant($"{X(p[0]):0.#},{Y(p[1]):0.#} "));
                }

                svg.Append("\"/>\n");
            }

            var ly = Height - 14;
            svg.Append(Invariant($"<rect x=\"{legendX}\" y=\"{ly - 9}\" width=\"12\" height=\"10\" fill=\"{color}\"/>\n"));
            svg.Append(Invariant($"<text x=\"{legendX + 16}\" y=\"{ly}\">{Escape(series.Name)}</text>\n"));
            legendX += 28 + (series.Name.Length * 7);
        }

        svg.Append("</svg>\n");
        return svg.ToString();
    }

    private static double NiceCeiling(double value)
    {
        if (value <= 0)
        {
            return 1;
        }

        var magnitude = Math.Pow(10, Math.Floor(Math.Log10(value)));
        foreach (var step in new[] { 1, 2, 2.5, 5, 10 })
        {
            if (step * magnitude >= value)
            {
                return step * magnitude;
            }
        }

        return 10 * magnitude;
    }

    private static string Format(double v) =>
        Math.Abs(v) >= 100 ? v.ToString("0", CultureInfo.InvariantCulture) : v.ToString("0.##", CultureInfo.InvariantCulture);

    private static string Escape(string text) => SecurityElement.Escape(text) ?? string.Empty;

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
