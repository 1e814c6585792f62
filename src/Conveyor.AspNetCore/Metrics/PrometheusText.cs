using System.Globalization;
using System.Text;

namespace Conveyor.AspNetCore.Metrics;

/// <summary>The Prometheus text exposition format (version 0.0.4): numbers, label escaping and series lines.</summary>
internal static class PrometheusText
{
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    public static void AppendEscaped(StringBuilder builder, string value)
    {
        foreach (var c in value)
        {
            _ = c switch
            {
                '\\' => builder.Append("\\\\"),
                '"' => builder.Append("\\\""),
                '\n' => builder.Append("\\n"),
                _ => builder.Append(c),
            };
        }
    }

    public static string Number(double value) => value switch
    {
        double.PositiveInfinity => "+Inf",
        double.NegativeInfinity => "-Inf",
        _ when double.IsNaN(value) => "NaN",
        _ => value.ToString("R", CultureInfo.InvariantCulture),
    };

    public static void Header(StringBuilder builder, string name, string kind, string help)
    {
        builder.Append("# HELP ").Append(name).Append(' ').Append(help.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal)).Append('\n');
        builder.Append("# TYPE ").Append(name).Append(' ').Append(kind).Append('\n');
    }

    public static void Line(StringBuilder builder, string name, string labels, string value)
    {
        builder.Append(name);
        if (labels.Length > 0)
        {
            builder.Append('{').Append(labels).Append('}');
        }

        builder.Append(' ').Append(value).Append('\n');
    }
}
