using Microsoft.Extensions.Options;
using Npgsql;

namespace Conveyor.Postgres;

/// <summary>
/// A connection string Npgsql cannot read (a misspelt keyword, a bad value) fails the options' validation at start with
/// Npgsql's reason and the setting's name, not as an exception from deep inside the first resolve of the store.
/// </summary>
internal sealed class PostgresConnectionStringValidator : IValidateOptions<PostgresStoreOptions>
{
    public ValidateOptionsResult Validate(string? name, PostgresStoreOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.ConnectionString))
        {
            return ValidateOptionsResult.Skip;
        }

        try
        {
            _ = new NpgsqlConnectionStringBuilder(options.ConnectionString);
            return ValidateOptionsResult.Success;
        }
        catch (Exception e) when (e is ArgumentException or FormatException or InvalidCastException or OverflowException)
        {
            return ValidateOptionsResult.Fail($"Conveyor:Postgres:ConnectionString cannot be read: {e.Message}");
        }
    }
}
