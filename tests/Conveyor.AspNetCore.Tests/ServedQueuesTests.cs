using System.Reflection;
using Conveyor.AspNetCore.JobsApi;
using Conveyor.Storage;
using Microsoft.Extensions.Time.Testing;

namespace Conveyor.AspNetCore.Tests;

/// <summary>
/// The warning of a create whose queue no live server serves reads the server registry; while that read hangs (the
/// node of the coordination slot frozen), creates do not each wait <see cref="ServedQueues.ReadFor"/> on it.
/// </summary>
public sealed class ServedQueuesTests
{
    [Fact]
    public async Task WhileARegistryReadHangs_AnEarlierAnswerIsUsedAtOnce()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var store = RegistryStore.Create(time);
        var served = new ServedQueues(store, time);
        Assert.NotNull(await served.WarningForAsync("b"));

        time.Advance(ServedQueues.CacheFor);
        RegistryStore.Of(store).Hang = true;
        var warning = served.WarningForAsync("b");
        Assert.True(warning.IsCompleted, "the create waited on the hung read although an earlier answer exists");
        Assert.Contains("they serve: a", await warning, StringComparison.Ordinal);
        Assert.Null(await served.WarningForAsync("a"));
    }

    [Fact]
    public async Task WhileTheFirstRegistryReadHangs_OnlyAnswersWithinReadForOfItsStartWait()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var store = RegistryStore.Create(time);
        RegistryStore.Of(store).Hang = true;
        var served = new ServedQueues(store, time);
        var first = served.WarningForAsync("b");
        Assert.False(first.IsCompleted);
        time.Advance(ServedQueues.ReadFor);
        Assert.Null(await first);

        var later = served.WarningForAsync("b");
        Assert.True(later.IsCompleted, "a later create waited a full ReadFor on the same hung read");
        Assert.Null(await later);
    }

    /// <summary>A store whose server registry lists one live server serving queue "a", or never answers while <see cref="Hang"/>.</summary>
    public class RegistryStore : DispatchProxy
    {
        private TimeProvider _time = null!;

        public bool Hang { get; set; }

        public static IJobStore Create(TimeProvider time)
        {
            var proxy = Create<IJobStore, RegistryStore>();
            ((RegistryStore)(object)proxy)._time = time;
            return proxy;
        }

        public static RegistryStore Of(IJobStore store) => (RegistryStore)(object)store;

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            if (targetMethod!.Name != nameof(IJobStore.ListServersAsync))
            {
                throw new NotSupportedException(targetMethod.Name);
            }

            if (Hang)
            {
                return new ValueTask<IReadOnlyList<ServerInfo>>(new TaskCompletionSource<IReadOnlyList<ServerInfo>>().Task);
            }

            var now = _time.GetUtcNow();
            IReadOnlyList<ServerInfo> servers =
            [
                new ServerInfo
                {
                    Id = "s", Host = "h", ProcessId = 1, Queues = new Dictionary<string, int> { ["a"] = 1 }, Concurrency = 1, ActiveJobs = 0,
                    StartedAt = now, LastHeartbeatAt = now, ExpiresAt = now.AddHours(1),
                },
            ];
            return new ValueTask<IReadOnlyList<ServerInfo>>(servers);
        }
    }
}
