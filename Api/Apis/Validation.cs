using System.Globalization;
using Microsoft.AspNetCore.Http.HttpResults;

namespace OptimizedCache.Api.Apis;

/// <summary>Input checks shared by the endpoints; each failure is a 400 problem naming the bad value.</summary>
internal static class Validation
{
    public const long MaxId = 1_000_000_000_000;

    public static ProblemHttpResult BadRequest(string detail) =>
        TypedResults.Problem(detail, statusCode: StatusCodes.Status400BadRequest, title: "Bad request");

    public static ProblemHttpResult NotFound(string what, long id) =>
        TypedResults.Problem($"No {what} has id {id}.", statusCode: StatusCodes.Status404NotFound, title: "Not found");

    /// <summary>Parses a positive id; on failure <paramref name="problem"/> says which value was wrong.</summary>
    public static bool TryParseId(string? text, string name, out long id, out ProblemHttpResult problem)
    {
        if (long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out id) && id is > 0 and <= MaxId)
        {
            problem = null!;
            return true;
        }

        problem = BadRequest($"{name} '{Shorten(text)}' is not an id: expected a whole number from 1 to {MaxId}.");
        return false;
    }

    /// <summary>Parses an optional whole number within bounds.</summary>
    public static bool TryParseInt(string? text, string name, int fallback, int min, int max, out int value, out ProblemHttpResult problem)
    {
        problem = null!;
        if (string.IsNullOrEmpty(text))
        {
            value = fallback;
            return true;
        }

        if (int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value) && value >= min && value <= max)
        {
            return true;
        }

        problem = BadRequest($"{name} '{Shorten(text)}' must be a whole number from {min} to {max}.");
        return false;
    }

    /// <summary>The reason an admin change gives: required, 1 to 500 characters.</summary>
    public static bool TryGetReason(string? reason, out ProblemHttpResult problem)
    {
        problem = null!;
        if (string.IsNullOrWhiteSpace(reason) || reason.Length > 500)
        {
            problem = BadRequest($"reason is required, 1 to 500 characters; got {(reason is null ? "none" : reason.Length + " characters")}.");
            return false;
        }

        return true;
    }

    /// <summary>Who made a change: <c>X-Actor</c>, printable, at most 100 characters; <c>api-key</c> without it.</summary>
    public static string Actor(HttpContext context)
    {
        var actor = context.Request.Headers["X-Actor"].ToString().Trim();
        if (actor.Length == 0)
        {
            return "api-key";
        }

        var clean = new string([.. actor.Where(c => !char.IsControl(c)).Take(100)]);
        return clean.Length == 0 ? "api-key" : clean;
    }

    private static string Shorten(string? text) => text is null ? string.Empty : text.Length <= 40 ? text : text[..40] + "…";
}
