using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Conveyor.Server.Tests;

/// <summary>What the start-up banner says of the configured store.</summary>
public sealed class StoreSelectionTests
{
    [Theory]
    [InlineData("127.0.0.1:7131,127.0.0.1:7132,127.0.0.1:7133", "redis (127.0.0.1:7131, 127.0.0.1:7132, 127.0.0.1:7133, prefix 'conveyor')")]
    [InlineData("redis-1:6379, redis-2:6379,password=secret,ssl=true", "redis (redis-1:6379, redis-2:6379, prefix 'conveyor')")]
    [InlineData("localhost:6379", "redis (localhost:6379, prefix 'conveyor')")]
    [InlineData("sentinel-1:26379,sentinel-2:26379,serviceName=mymaster,password=secret", "redis (Sentinels sentinel-1:26379, sentinel-2:26379, service 'mymaster', prefix 'conveyor')")]
    public void Describe_Redis_NamesEveryConfiguredEndpoint_AndNoOption(string redis, string described)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Conveyor:Store"] = "redis",
            ["Conveyor:Redis:Configuration"] = redis,
        }).Build();

        Assert.Equal(described, StoreSelection.Describe(configuration));
    }

    [Theory]
    [InlineData("Host=127.0.0.1:5431,127.0.0.1:5432;Username=postgres;Database=jobs", "postgres (127.0.0.1:5431, 127.0.0.1:5432/jobs, schema 'conveyor')")]
    [InlineData("Host=db-1,db-2:5433;Port=5440;Username=postgres;Database=jobs;Password=secret", "postgres (db-1:5440, db-2:5433/jobs, schema 'conveyor')")]
    [InlineData("Host=localhost;Username=postgres;Database=jobs", "postgres (localhost:5432/jobs, schema 'conveyor')")]
    [InlineData("Host=::1;Username=postgres;Database=jobs", "postgres ([::1]:5432/jobs, schema 'conveyor')")]
    public void Describe_Postgres_NamesEveryHostWithItsPort_AndNoSecret(string connectionString, string described)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Conveyor:Store"] = "postgres",
            ["Conveyor:Postgres:ConnectionString"] = connectionString,
        }).Build();

        Assert.Equal(described, StoreSelection.Describe(configuration));
    }
}
