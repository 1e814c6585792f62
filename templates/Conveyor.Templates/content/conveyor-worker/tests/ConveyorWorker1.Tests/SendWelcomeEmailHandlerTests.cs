using Conveyor;
using Conveyor.Testing;
using ConveyorWorker1.Jobs;
using Microsoft.Extensions.DependencyInjection;

namespace ConveyorWorker1.Tests;

public sealed class SendWelcomeEmailHandlerTests
{
    [Fact]
    public async Task AKnownUser_GetsTheEmail()
    {
        var emails = new FakeWelcomeEmails();
        var payload = new SendWelcomeEmail(42);
        var test = TestJobContext.Create(payload);

        await new SendWelcomeEmailHandler(emails).HandleAsync(payload, test.Context, CancellationToken.None);

        Assert.Equal([42L], emails.Sent);
    }

    [Fact]
    public async Task AnUnknownUser_IsNotRetried()
    {
        var payload = new SendWelcomeEmail(FakeWelcomeEmails.UnknownUser);
        var test = TestJobContext.Create(payload);

        await Assert.ThrowsAsync<SkipRetryException>(() => new SendWelcomeEmailHandler(new FakeWelcomeEmails()).HandleAsync(payload, test.Context, CancellationToken.None));
    }

    [Fact]
    public async Task AnEnqueuedJob_RunsThroughTheWorkersPipeline()
    {
        var emails = new FakeWelcomeEmails();
        await using var host = ConveyorTestHost.Create(
            conveyor => conveyor.AddJobs(),
            services: services => services.AddSingleton<IWelcomeEmails>(emails));

        await host.Client.EnqueueDefaultAsync(new SendWelcomeEmail(7), SendWelcomeEmail.DefaultOptions);
        host.AssertEnqueued<SendWelcomeEmail>(job => job.UserId == 7);

        var ran = await host.DrainAsync();

        Assert.Equal(1, ran.Succeeded);
        Assert.Equal([7L], emails.Sent);
        host.AssertNothingEnqueued();
    }

    private sealed class FakeWelcomeEmails : IWelcomeEmails
    {
        public const long UnknownUser = 404;

        public List<long> Sent { get; } = [];

        public Task<bool> SendAsync(long userId, CancellationToken cancellationToken)
        {
            if (userId == UnknownUser)
            {
                return Task.FromResult(false);
            }

            Sent.Add(userId);
            return Task.FromResult(true);
        }
    }
}
