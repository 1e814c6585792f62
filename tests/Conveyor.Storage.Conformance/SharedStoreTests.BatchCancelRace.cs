using System.Collections.Concurrent;

namespace Conveyor.Storage.Conformance;

public abstract partial class SharedStoreTests
{
    /// <summary>
    /// A batch cancelled through one instance while a job is added to it through the other, as two server processes
    /// answering a cancel and an add at the same moment while the batch's member runs: the add is refused (the cancel
    /// came first), or the cancel cancels the added job, or asks it to stop when a worker had started it already. A
    /// worker never starts a job of a batch it can see cancelled without the job being asked to stop. Found on
    /// PostgreSQL by an outside run (6 races in 100): the cancel's statement took its snapshot before the add committed
    /// and committed the batch cancelled with the added job pending, and a worker ran it to success before a later
    /// statement cancelled it.
    /// </summary>
    [Fact]
    public async Task Siblings_CancelABatchWhileTheOtherAddsToIt_TheAddedJobIsRefusedOrCancelled_NeverStartedUnasked()
    {
        const string queue = "batch-race";
        for (var round = 0; round < 40; round++)
        {
            var batch = new NewBatch { Id = BatchId.New(), Tenant = DefaultTenant, Retention = TimeSpan.FromDays(1) };
            var running = NewJob(queue: queue) with { BatchId = batch.Id };
            Assert.True((await Store.CreateBatchAsync(batch, [running], Ct)).AllStored);
            Assert.Equal(running.Id, Assert.Single(await Store.DequeueAsync(Request(10, queues: [queue]), Ct)).Id);

            var added = NewJob(queue: queue) with { BatchId = batch.Id };
            var go = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var cancel = Task.Run(async () =>
            {
                await go.Task;
                return await Store.CancelBatchAsync(batch.Id, DefaultTenant, Ct);
            });
            var add = Task.Run(async () =>
            {
                await go.Task;
                return await Sibling.AddToBatchAsync(batch.Id, DefaultTenant, [added], Ct);
            });

            // A worker of the sibling's process starts what becomes runnable at once and looks, as a handler would, at
            // whether it is asked to stop; it looks for work once more after both answered, as a worker would later.
            var startedUnasked = new ConcurrentBag<string>();
            var worker = Task.Run(async () =>
            {
                await go.Task;
                bool answered;
                do
                {
                    answered = cancel.IsCompleted && add.IsCompleted;
                    foreach (var leased in await Sibling.DequeueAsync(Request(10, serverId: "server-b", queues: [queue]), Ct))
                    {
                        var batchSeen = await Sibling.GetBatchAsync(batch.Id, DefaultTenant, Ct);
                        var jobSeen = await Sibling.GetAsync(DefaultTenant, leased.Id, Ct);
                        if (batchSeen?.State == BatchState.Cancelled && jobSeen?.CancelRequested != true)
                        {
                            startedUnasked.Add(leased.Id);
                        }
                    }
                }
                while (!answered);
            });

            go.SetResult();
            await Task.WhenAll(cancel, add, worker);

            Assert.True(await cancel);
            Assert.True(startedUnasked.IsEmpty, $"Round {round}: a worker started the added job in the cancelled batch, not asked to stop.");
            var job = await Store.GetAsync(DefaultTenant, added.Id, Ct);
            if (await add is null)
            {
                Assert.Null(job);
            }
            else
            {
                Assert.NotNull(job);
                Assert.True(job.State == JobState.Cancelled || job.CancelRequested, $"Round {round}: the added job is {job.State} in the cancelled batch, not asked to stop.");
            }
        }
    }
}
