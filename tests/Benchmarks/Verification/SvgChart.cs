using System.Globalization;
using System.Net;
using System.Text;

namespace OptimizedCache.Benchmarks.Verification;

/// <summary>One line of a chart: a name and its points (NaN values leave a gap).</summary>
/// <param name="Name">The legend text.</param>
/// <param name="Points">(x, y) pairs in x order.</param>
internal sealed record ChartSeries(string Name, IReadOnlyList<(double X, double Y)> Points);

/// <summary>
/// A self-contained SVG line chart (no scripts, no external fonts) for docs/verification: title, axes with round ticks,
/// a legend, optional horizontal reference lines (targets, budgets).
/// </summary>
internal static class SvgChart
{
    private const int Width = 720, Height = 320, Left = 70, Right = 20, Top = 40, Bottom = 50;
    private static readonly string[] Colors = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"];

    /// <summary>Renders the chart.</summary>
    public static string Render(string title, string xLabel, string yLabel, IReadOnlyList<ChartSeries> series,
        IReadOnlyList<(string Label, double Y)>? references = null, bool logX = false, double? yMin = null, double? yMax = null,
        IReadOnlyList<(string Label, double X)>? markers = null)
    {
        var points = series.SelectMany(s => s.Points).Where(p => double.IsFinite(p.X) && double.IsFinite(p.Y)).ToList();
        var refs = references ?? [];
        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture, $"""<svg xmlns="http://www.w3.org/2000/svg" width="{Width}" height="{Height}" viewBox="0 0 {Width} {Height}" font-family="sans-serif" font-size="12">""").AppendLine();
        svg.AppendLine("""<rect width="100%" height="100%" fill="white"/>""");
        svg.Append(CultureInfo.InvariantCulture, $"""<text x="{Width / 2}" y="20" text-anchor="middle" font-size="14" font-weight="bold">{Escape(title)}</text>""").AppendLine();
        if (points.Count == 0)
        {
            svg.Append(CultureInfo.InvariantCulture, $"""<text x="{Width / 2}" y="{Height / 2}" text-anchor="middle">no data</text>""").AppendLine();
            return svg.Append("</svg>").ToString();
        }

        double Tx(double x) => logX ? Math.Log10(Math.Max(x, 1e-9)) : x;
        var xs = points.Select(p => Tx(p.X)).ToList();
        double x0 = xs.Min(), x1 = xs.Max();
        if (x1 == x0)
        {
            x1 = x0 + 1;
        }

        var ys = points.Select(p => p.Y).Concat(refs.Select(r => r.Y)).ToList();
        var (y0, y1, step) = NiceRange(yMin ?? Math.Min(0, ys.Min()), yMax ?? ys.Max());
        double Px(double x) => Left + ((Tx(x) - x0) / (x1 - x0) * (Width - Left - Right));
        double Py(double y) => Height - Bottom - ((y - y0) / (y1 - y0) * (Height - Top - Bottom));

        svg.Append(CultureInfo.InvariantCulture, $"""<line x1="{Left}" y1="{Height - Bottom}" x2="{Width - Right}" y2="{Height - Bottom}" stroke="#333"/>""").AppendLine();
        svg.Append(CultureInfo.InvariantCulture, $"""<line x1="{Left}" y1="{Top}" x2="{Left}" y2="{Height - Bottom}" stroke="#333"/>""").AppendLine();
        for (var y = y0; y <= y1 + (step / 2); y += step)
        {
            svg.Append(CultureInfo.InvariantCulture, $"""<line x1="{Left}" y1="{Py(y):0.#}" x2="{Width - Right}" y2="{Py(y):0.#}" stroke="#eee"/><text x="{Left - 6}" y="{Py(y) + 4:0.#}" text-anchor="end">{Format(y)}</text>""").AppendLine();
        }

        foreach (var x in points.Select(p => p.X).Distinct().Order().ToList() is { Count: <= 12 } distinct ? distinct : Ticks(points.Min(p => p.X), points.Max(p => p.X)))
        {
            svg.Append(CultureInfo.InvariantCulture, $"""<text x="{Px(x):0.#}" y="{Height - Bottom + 16}" text-anchor="middle">{Format(x)}</text>""").AppendLine();
        }

        svg.Append(CultureInfo.InvariantCulture, $"""<text x="{(Left + Width - Right) / 2}" y="{Height - 12}" text-anchor="middle">{Escape(xLabel)}</text>""").AppendLine();
        svg.Append(CultureInfo.InvariantCulture, $"""<text transform="translate(16,{(Top + Height - Bottom) / 2}) rotate(-90)" text-anchor="middle">{Escape(yLabel)}</text>""").AppendLine();
        foreach (var (label, y) in refs)
        {
            svg.Append(CultureInfo.InvariantCulture, $"""<line x1="{Left}" y1="{Py(y):0.#}" x2="{Width - Right}" y2="{Py(y):0.#}" stroke="#999" stroke-dasharray="6 4"/><text x="{Width - Right - 4}" y="{Py(y) - 4:0.#}" text-anchor="end" fill="#666">{Escape(label)}</text>""").AppendLine();
        }

        foreach (var (label, x) in markers ?? [])
        {
            svg.Append(CultureInfo.InvariantCulture, $"""<line x1="{Px(x):0.#}" y1="{Top}" x2="{Px(x):0.#}" y2="{Height - Bottom}" stroke="#555" stroke-dasharray="2 3"/><text x="{Px(x) + 3:0.#}" y="{Top + 12}" fill="#555" font-size="10">{Escape(label)}</text>""").AppendLine();
        }

        for (var i = 0; i < series.Count; i++)
        {
            var color = Colors[i % Colors.Length];
            var path = new StringBuilder();
            var pen = 'M';
            foreach (var (x, y) in series[i].Points)
            {
                if (!double.IsFinite(x) || !double.IsFinite(y))
                {
                    pen = 'M';
                    continue;
                }

                path.Append(CultureInfo.InvariantCulture, $"{pen}{Px(x):0.#},{Py(y):0.#} ");
                pen = 'L';
            }

            svg.Append(CultureInfo.InvariantCulture, $"""<path d="{path.ToString().TrimEnd()}" fill="none" stroke="{color}" stroke-width="2"/>""").AppendLine();
            if (series[i].Points.Count <= 40)
            {
                foreach (var (x, y) in series[i].Points.Where(p => double.IsFinite(p.X) && double.IsFinite(p.Y)))
                {
                    svg.Append(CultureInfo.InvariantCulture, $"""<circle cx="{Px(x):0.#}" cy="{Py(y):0.#}" r="3" fill="{color}"/>""").AppendLine();
                }
            }

            var lx = Left + 10 + (i * 170);
            svg.Append(CultureInfo.InvariantCulture, $"""<rect x="{lx}" y="{Top - 12}" width="12" height="4" fill="{color}"/><text x="{lx + 16}" y="{Top - 7}">{Escape(series[i].Name)}</text>""").AppendLine();
        }

        return svg.Append("</svg>").AppendLine().ToString();
    }

    /// <summary>A range from ≤ min to ≥ max with 4–8 round steps.</summary>
    internal static (double Min, double Max, double Step) NiceRange(double min, double max)
    {
        if (!double.IsFinite(min) || !double.IsFinite(max))
        {
            return (0, 1, 0.25);
        }

        if (max <= min)
        {
            max = min + (min == 0 ? 1 : Math.Abs(min) * 0.1);
        }

        var raw = (max - min) / 5;
        var magnitude = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        var step = new[] { 1, 2, 2.5, 5, 10 }.Select(m => m * magnitude).First(s => s >= raw);
        return (Math.Floor(min / step) * step, Math.Ceiling(max / step) * step, step);
    }

    private static IEnumerable<double> Ticks(double min, double max)
    {
        var (lo, hi, step) = NiceRange(min, max);
        for (var x = lo; x <= hi + (step / 2); x += step)
        {
            if (x >= min - (step / 2) && x <= max + (step / 2))
            {
                yield return x;
            }
        }
    }

    private static string Format(double v) =>
        Math.Abs(v) >= 10_000 ? (v / 1000).ToString("0.#", CultureInfo.InvariantCulture) + "k"
        : Math.Abs(v) >= 100 || v == Math.Round(v) ? v.ToString("0", CultureInfo.InvariantCulture)
        : v.ToString("0.###", CultureInfo.InvariantCulture);

    private static string Escape(string text) => WebUtility.HtmlEncode(text);
}
