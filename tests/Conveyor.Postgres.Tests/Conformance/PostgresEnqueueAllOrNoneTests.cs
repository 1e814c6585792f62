using Conveyor.Storage;
using Conveyor.Storage.Conformance;

namespace Conveyor.Postgres.Tests.Conformance;

public sealed class PostgresEnqueueAllOrNoneTests : EnqueueAllOrNoneTests
{
    private readonly PostgresTestSchema _schema = PostgresTestSchema.Reused();

    protected override ValueTask<IJobStore> CreateStoreAsync(FakeTimeProvider timeProvider) => _schema.CreateJobStoreAsync(timeProvider);

    /// <summary>
    /// A trigger fails the insert of the failing job with SQLSTATE 57P01 (the server is shutting down), after the rows
    /// before it were inserted by the same statement: what the store sees when the server goes away mid-write.
    /// </summary>
    protected override async ValueTask<Type?> ArmFailureMidWriteAsync(string failingJobId)
    {
        await _schema.ScalarAsync<object>($$"""
            CREATE FUNCTION {schema}.fail_mid_write() RETURNS trigger LANGUAGE plpgsql AS $f$
            BEGIN
                IF NEW.id = '{{failingJobId}}' THEN
                    RAISE EXCEPTION 'terminating connection due to administrator command' USING ERRCODE = '57P01';
                END IF;
                RETURN NEW;
            END $f$;
            CREATE TRIGGER fail_mid_write BEFORE INSERT ON {schema}.jobs FOR EACH ROW EXECUTE FUNCTION {schema}.fail_mid_write();
            """);
        return typeof(JobStoreUnavailableException);
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await _schema.DisposeAsync();
    }
}
