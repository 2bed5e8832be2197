using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace OptimizedCache.ServiceDefaults.Internal;

/// <summary>
/// The body of <c>/health</c> and <c>/alive</c>: the overall status and, per check, its status,
/// description, duration and data. An exception shows as its type only: messages of failed
/// connections can carry host names or credentials.
/// </summary>
internal static class HealthResponseWriter
{
    public static async Task WriteAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json; charset=utf-8";
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("status", report.Status.ToString());
            json.WriteNumber("durationSeconds", Math.Round(report.TotalDuration.TotalSeconds, 6));
            json.WriteStartObject("checks");
            foreach (var (name, entry) in report.Entries)
            {
                json.WriteStartObject(name);
                json.WriteString("status", entry.Status.ToString());
                json.WriteString("description", entry.Description);
                json.WriteNumber("durationSeconds", Math.Round(entry.Duration.TotalSeconds, 6));
                if (entry.Exception is not null)
                {
                    json.WriteString("error", entry.Exception.GetType().FullName);
                }

                json.WriteStartArray("tags");
                foreach (var tag in entry.Tags)
                {
                    json.WriteStringValue(tag);
                }

                json.WriteEndArray();
                if (entry.Data.Count > 0)
                {
                    json.WriteStartObject("data");
                    foreach (var (key, value) in entry.Data)
                    {
                        json.WriteString(key, value is IFormattable formattable
                            ? formattable.ToString(null, CultureInfo.InvariantCulture)
                            : value?.ToString());
                    }

                    json.WriteEndObject();
                }

                json.WriteEndObject();
            }

            json.WriteEndObject();
            json.WriteEndObject();
        }

        context.Response.ContentLength = buffer.Length;
        await context.Response.Body.WriteAsync(buffer.GetBuffer().AsMemory(0, (int)buffer.Length), context.RequestAborted);
    }
}
