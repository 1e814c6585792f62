using System.Text.Json.Serialization;

namespace Conveyor.Postgres;

/// <summary>
/// The JSON the store writes into its jsonb columns: job errors (snake_case, as the Jobs API shows them) and a
/// server's queue weights. Source-generated, so no reflection on the hot path.
/// </summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(JobError[]))]
[JsonSerializable(typeof(Dictionary<string, int>))]
internal sealed partial class PostgresJsonContext : JsonSerializerContext;
