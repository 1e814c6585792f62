using Microsoft.Extensions.Options;

namespace Conveyor.Postgres;

/// <summary>
/// The checks the attributes of <see cref="PostgresStoreOptions"/> state, generated at build time by the options validation
/// source generator: no reflection over the options, so trimming and Native AOT keep them working.
/// </summary>
[OptionsValidator]
internal sealed partial class PostgresStoreOptionsValidator : IValidateOptions<PostgresStoreOptions>;
