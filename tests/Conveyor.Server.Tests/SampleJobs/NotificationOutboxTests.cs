using Conveyor.Server.SampleJobs;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Time.Testing;

namespace Conveyor.Server.Tests.SampleJobs;

public sealed class NotificationOutboxTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("conveyor-outbox-").FullName;
    private readonly CancellationTokenSource _guard = new(TimeSpan.FromSeconds(60));

    public void Dispose()
    {
        _guard.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task AppendAsync_ManyWritersAtOnce_KeepsEveryLineWhole()
    {
        // Separate instances, as separate worker processes have: each append opens the file itself.
        const int Writers = 8, LinesEach = 200;
        var writers = Enumerable.Range(0, Writers).Select(w => Task.Run(async () =>
        {
            var outbox = CreateSut(TimeProvider.System);
            for (var i = 0; i < LinesEach; i++)
            {
                await outbox.AppendAsync($"note-{w}-{i:D4}\tjob_{w}\t1", _guard.Token);
            }
        }));

        await Task.WhenAll(writers);

        var lines = await File.ReadAllLinesAsync(CreateSut(TimeProvider.System).Path, _guard.Token);
        Assert.Equal(Writers * LinesEach, lines.Length);
        Assert.Equal(Writers * LinesEach, lines.Distinct().Count());
        Assert.All(lines, l => Assert.Matches(@"^note-\d-\d{4}\tjob_\d\t1$", l));
    }

    [Fact]
    public async Task AppendAsync_PastTheRotationSize_MovesTheLinesAside_KeepingOneFileBefore_WithEveryLineWhole()
    {
        // Many writers at once across eight rotations: each file holds whole lines only, the one before exactly a
        // rotation's worth, the current one the rest (404 lines of 20 bytes, rotated at 1,000 bytes: 50 a file).
        const int Writers = 4, LinesEach = 101, LineBytes = 20;
        var writers = Enumerable.Range(0, Writers).Select(w => Task.Run(async () =>
        {
            var outbox = CreateSut(TimeProvider.System, rotateAtBytes: 50 * LineBytes);
            for (var i = 0; i < LinesEach; i++)
            {
                await outbox.AppendAsync($"note-{w}-{i:D4}\tjob_{w}\t1", _guard.Token);
            }
        }));

        await Task.WhenAll(writers);

        var sut = CreateSut(TimeProvider.System);
        var current = await File.ReadAllLinesAsync(sut.Path, _guard.Token);
        var previous = await File.ReadAllLinesAsync(sut.PreviousPath, _guard.Token);
        Assert.InRange(new FileInfo(sut.Path).Length, 0, 50 * LineBytes);
        Assert.Equal(50, previous.Length);
        Assert.Equal(Writers * LinesEach % 50, current.Length);
        Assert.All(current.Concat(previous), l => Assert.Matches(@"^note-\d-\d{4}\tjob_\d\t1$", l));
        Assert.Equal(current.Length + previous.Length, current.Concat(previous).Distinct().Count());
    }

    [Fact]
    public async Task AppendAsync_LockHeldByAnotherWriter_WaitsForIt()
    {
        var time = new FakeTimeProvider();
        var sut = CreateSut(time);
        Directory.CreateDirectory(Path.GetDirectoryName(sut.Path)!);
        var holder = new FileStream(sut.LockPath, FileMode.OpenOrCreate, FileAccess.Write, FileShare.None);

        var append = sut.AppendAsync("note-1\tjob_1\t1", _guard.Token);
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.False(append.IsCompleted);
        await holder.DisposeAsync();
        await AdvanceUntilDoneAsync(time, append);

        Assert.Equal(["note-1\tjob_1\t1"], await File.ReadAllLinesAsync(sut.Path, _guard.Token));
    }

    [Fact]
    public async Task AppendAsync_LockHeldLongerThanTheLimit_FailsWithoutWriting()
    {
        var time = new FakeTimeProvider();
        var sut = CreateSut(time);
        Directory.CreateDirectory(Path.GetDirectoryName(sut.Path)!);
        await using var holder = new FileStream(sut.LockPath, FileMode.OpenOrCreate, FileAccess.Write, FileShare.None);

        var append = sut.AppendAsync("note-1\tjob_1\t1", _guard.Token);
        await AdvanceUntilDoneAsync(time, append);

        await Assert.ThrowsAnyAsync<IOException>(() => append);
        Assert.False(File.Exists(sut.Path));
    }

    [Fact]
    public async Task AppendAsync_CancelledWhileWaiting_StopsWithoutWriting()
    {
        var time = new FakeTimeProvider();
        var sut = CreateSut(time);
        Directory.CreateDirectory(Path.GetDirectoryName(sut.Path)!);
        await using var holder = new FileStream(sut.LockPath, FileMode.OpenOrCreate, FileAccess.Write, FileShare.None);
        using var cancel = new CancellationTokenSource();

        var append = sut.AppendAsync("note-1\tjob_1\t1", cancel.Token);
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => append);
        Assert.False(File.Exists(sut.Path));
    }

    private NotificationOutbox CreateSut(TimeProvider time, long rotateAtBytes = NotificationOutbox.DefaultRotateAtBytes)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Conveyor:Samples:DataDirectory"] = _directory })
            .Build();
        return new NotificationOutbox(new SampleDataDirectory(configuration), time) { RotateAtBytes = rotateAtBytes };
    }

    /// <summary>Moves the fake clock on, a retry's wait at a time, until the append ends (or the guard's deadline).</summary>
    private async Task AdvanceUntilDoneAsync(FakeTimeProvider time, Task append)
    {
        while (!append.IsCompleted)
        {
            _guard.Token.ThrowIfCancellationRequested();
            time.Advance(TimeSpan.FromMilliseconds(100));
            await Task.Yield();
        }
    }
}
