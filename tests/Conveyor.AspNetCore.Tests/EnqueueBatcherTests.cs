using System.Net;
using System.Reflection;
using Conveyor.Storage;
using Conveyor.Storage.InMemory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Conveyor.AspNetCore.Tests;

public sealed class EnqueueBatcherTests
{
    [Fact]
    public async Task JobTheStoreRefuses_FailsAlone_AndTheOthersOfItsBatchAreStored()
    {
        await using var app = await TestApp.StartAsync(
            new Dictionary<string, string?> { ["RateLimit:Enabled"] = "false" },
            services: s => s.Replace(ServiceDescriptor.Singleton<IJobStore>(sp => PickyStore.Create(new InMemoryJobStore(TimeProvider.System)))));

        var responses = await Task.WhenAll(Enumerable.Range(0, 40).Select(i =>
            app.PostJobAsync(i % 10 == 0 ? """{"type": "test:noop", "payload": "poison"}""" : """{"type": "test:noop"}""")));

        Assert.Equal(36, responses.Count(r => r.StatusCode == HttpStatusCode.Accepted));
        Assert.Equal(4, responses.Count(r => r.StatusCode == HttpStatusCode.BadRequest));
        Assert.Equal(36, (await app.StoredJobsAsync()).Count);
        foreach (var response in responses)
        {
            response.Dispose();
        }
    }

    /// <summary>A store that refuses, as a store may, any batch holding a job whose payload is "poison".</summary>
    public class PickyStore : DispatchProxy
    {
        private IJobStore _inner = null!;

        public static IJobStore Create(IJobStore inner)
        {
            var proxy = Create<IJobStore, PickyStore>();
            ((PickyStore)(object)proxy)._inner = inner;
            return proxy;
        }

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            if (targetMethod!.Name is nameof(IJobStore.EnqueueManyAsync)
                && ((IReadOnlyList<NewJob>)args![0]!).Any(j => System.Text.Encoding.UTF8.GetString(j.Payload.Span) == "\"poison\""))
            {
                throw new ArgumentException("The store refuses poison.", "jobs");
            }

            try
            {
                return targetMethod.Invoke(_inner, args);
            }
            catch (TargetInvocationException e) when (e.InnerException is not null)
            {
                throw e.InnerException;
            }
        }
    }
}
