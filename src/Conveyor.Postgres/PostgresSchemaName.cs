using System.Text.RegularExpressions;

namespace Conveyor.Postgres;

/// <summary>
/// The schema name rule, and the one place a schema name is put into SQL text. SQL cannot bind an identifier as
/// a parameter, so the name is checked against a strict pattern and then double-quoted: together they make
/// injection impossible, and the quoting keeps the name exactly as written.
/// </summary>
internal static partial class PostgresSchemaName
{
    // 48 characters leave room for the "_jobs" and "_cancel" suffixes of the NOTIFY channels within
    // PostgreSQL's 63-byte identifier limit.
    public const string Pattern = "^(?!pg_)[a-z_][a-z0-9_]{0,47}$";

    public const string Rule =
        "The schema must be 1 to 48 characters of lowercase letters, digits and '_', must not start with a digit, and must not start with 'pg_'.";

    public static bool IsValid(string? schema) => schema is not null && SchemaRegex().IsMatch(schema);

    public static void EnsureValid(string? schema)
    {
        if (!IsValid(schema))
        {
            throw new ArgumentException($"'{schema}' is not a valid Conveyor schema name. {Rule}", nameof(schema));
        }
    }

    /// <summary>
    /// Replaces the psql variables <c>:"schema"</c> (quoted identifier) and <c>:'schema'</c> (string literal) in
    /// <paramref name="sql"/>, as <c>psql -v schema=…</c> does, so one SQL text serves the store and a DBA.
    /// </summary>
    public static string Substitute(string sql, string schema)
    {
        EnsureValid(schema);
        return sql.Replace(":\"schema\"", Quote(schema), StringComparison.Ordinal)
            .Replace(":'schema'", "'" + schema + "'", StringComparison.Ordinal);
    }

    /// <summary>The double-quoted identifier (the pattern admits no quote character).</summary>
    public static string Quote(string schema) => "\"" + schema + "\"";

    [GeneratedRegex(Pattern, RegexOptions.CultureInvariant)]
    private static partial Regex SchemaRegex();
}
