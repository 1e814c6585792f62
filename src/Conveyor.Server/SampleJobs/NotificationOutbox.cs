using System.Text;

namespace Conveyor.Server.SampleJobs;

/// <summary>
/// The sample's outbox, <c>outbox/notifications.log</c>: one line per notification "sent". Each append is whole, even when
/// several handlers and worker processes append at once. <see cref="FileMode.Append"/> alone does not give that: .NET
/// opens the file without O_APPEND, seeks to its end and writes at that offset, so two writers that found the same end
/// write over each other and a line is lost. An exclusive open of <c>notifications.log.lock</c> (<see cref="FileShare.None"/>:
/// an advisory lock on Unix, a share lock on Windows) makes one writer wait for the other. The file is rotated at <see cref="RotateAtBytes"/>: the
/// lines before move to <c>notifications.log.1</c> (replacing the one before), so a server left running keeps at most twice
/// that, where it grew without bound (36 MB a day at 100 notifications a second in an outside soak).
/// </summary>
public sealed class NotificationOutbox(SampleDataDirectory data, TimeProvider timeProvider)
{
    /// <summary>How long an append waits for the file before it fails (the attempt then fails and is retried).</summary>
    internal static readonly TimeSpan WaitLimit = TimeSpan.FromSeconds(10);

    /// <summary>The default of <see cref="RotateAtBytes"/>: 16 MiB.</summary>
    internal const long DefaultRotateAtBytes = 16 * 1024 * 1024;

    private static readonly TimeSpan RetryDelay = TimeSpan.FromMilliseconds(5);

    public string Path => data.OutboxPath;

    /// <summary>Where the previous lines go when the file is rotated.</summary>
    public string PreviousPath => Path + ".1";

    /// <summary>The size from which an append rotates the file.</summary>
    internal long RotateAtBytes { get; init; } = DefaultRotateAtBytes;

    /// <summary>
    /// Appends <paramref name="line"/> (with its newline). The token stops the wait for the file; once the file is
    /// open the line is written whole.
    /// </summary>
    public async Task AppendAsync(string line, CancellationToken cancellationToken)
    {
        var bytes = Encoding.UTF8.GetBytes(line + "\n");
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(Path)!);
        var giveUpAt = timeProvider.GetUtcNow() + WaitLimit;
        while (true)
        {
            // The lock is a file of its own, never moved: a writer that opened the outbox itself just before another
            // moved it aside would take its lock after the move and append to the file moved aside.
            FileStream held;
            try
            {
                held = new FileStream(LockPath, FileMode.OpenOrCreate, FileAccess.Write, FileShare.None, bufferSize: 0);
            }
            catch (IOException) when (timeProvider.GetUtcNow() < giveUpAt)
            {
                // Another writer holds it for the few microseconds of its append.
                await Task.Delay(RetryDelay, timeProvider, cancellationToken).ConfigureAwait(false);
                continue;
            }

            await using (held.ConfigureAwait(false))
            {
                var file = new FileStream(Path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite, bufferSize: 0);
                await using (file.ConfigureAwait(false))
                {
                    await file.WriteAsync(bytes, CancellationToken.None).ConfigureAwait(false);
                    if (file.Length >= RotateAtBytes)
                    {
                        RotateWhileHeld();
                    }
                }
            }

            return;
        }
    }

    /// <summary>The file whose exclusive open makes one writer wait for another.</summary>
    internal string LockPath => Path + ".lock";

    /// <summary>
    /// Moves the file aside while this writer holds the lock, so no other writer appends to it meanwhile: the next one
    /// opens the path anew and creates the file. Windows does not rename a file held open this way; there it is left to
    /// grow, as before.
    /// </summary>
    private void RotateWhileHeld()
    {
        try
        {
            File.Move(Path, PreviousPath, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }
}
