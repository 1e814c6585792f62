namespace Conveyor;

/// <summary>Job types are named <c>{domain}:{action}</c>, e.g. <c>note:archive</c> or <c>report:generate</c>.</summary>
public static class JobType
{
    /// <summary>Longest job type accepted.</summary>
    public const int MaxLength = 100;

    /// <summary>
    /// True for <c>{domain}:{action}</c> where both parts are non-empty and made of lowercase letters,
    /// digits, '_', '-' and '.'.
    /// </summary>
    public static bool IsValid(string? type)
    {
        if (string.IsNullOrEmpty(type) || type.Length > MaxLength)
        {
            return false;
        }

        var colon = type.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0 || colon == type.Length - 1 || type.IndexOf(':', colon + 1) >= 0)
        {
            return false;
        }

        foreach (var c in type)
        {
            if (c != ':' && !char.IsAsciiLetterLower(c) && !char.IsAsciiDigit(c) && c is not ('_' or '-' or '.'))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Throws an <see cref="ArgumentException"/> that says what a job type must look like.</summary>
    public static void EnsureValid(string? type, string paramName = "type")
    {
        if (!IsValid(type))
        {
            throw new ArgumentException(
                $"Job type '{type}' is not of the form '{{domain}}:{{action}}' (lowercase letters, digits, '_', '-', '.'; at most {MaxLength} characters), e.g. 'note:archive'.",
                paramName);
        }
    }
}
