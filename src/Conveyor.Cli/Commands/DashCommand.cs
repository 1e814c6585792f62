using System.Buffers;
using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Conveyor.Cli.Output;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Conveyor.Cli.Commands;

/// <summary>
/// <c>conveyor dash</c>: a live view of the queues (with jobs finished per second since the last refresh), the worker
/// servers and the newest failures, redrawn every <c>--interval</c> until Ctrl+C. <c>--once</c> prints one frame.
/// </summary>
internal static class DashCommand
{
    private static readonly string[] Finished = ["success", "partial_success", "failed"];

    public static Command Create(GlobalOptions options, CliEnvironment environment)
    {
        var interval = new Option<double>("--interval") { Description = "Seconds between refreshes.", DefaultValueFactory = _ => 2 };
        var once = new Option<bool>("--once") { Description = "Print one frame and exit (for scripts, or a terminal that cannot redraw)." };
        var command = new Command("dash", "A live view of queues, throughput, servers and failures, until Ctrl+C (an operator key).") { interval, once };
        CommandRunner.SetAction(command, options, environment, async (context, cancellationToken) =>
        {
            var seconds = context.Parsed.GetValue(interval);
            if (seconds is < 0.2 or > 3600)
            {
                throw new CliException(ExitCodes.Usage, $"--interval {seconds}: give 0.2 to 3600 seconds.");
            }

            var dash = new Dash(context);
            if (context.Output.Json)
            {
                return await dash.WriteJsonAsync(context.Parsed.GetValue(once), seconds, cancellationToken).ConfigureAwait(false);
            }

            if (context.Parsed.GetValue(once))
            {
                context.Output.Console.Write(await dash.OnceAsync(cancellationToken).ConfigureAwait(false));
                return ExitCodes.Ok;
            }

            try
            {
                await context.Output.Console.Live(new Text("Loading…")).AutoClear(false).StartAsync(async live =>
                {
                    while (true)
                    {
                        live.UpdateTarget(await dash.LiveFrameAsync(cancellationToken).ConfigureAwait(false));
                        live.Refresh();
                        await Task.Delay(TimeSpan.FromSeconds(seconds), TimeProvider.System, cancellationToken).ConfigureAwait(false);
                    }
                }).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // Ctrl+C: the last frame stays on screen.
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    private sealed class Dash(CommandContext context)
    {
        private readonly Dictionary<string, (long Finished, long Failed, long At)> _previous = new(StringComparer.Ordinal);
        private IRenderable[] _lastTables = [];

        // Until a refresh has been answered, a failure ends the command: a mistyped host or port (refused, no such
        // name) is as unreachable as a server restarting, and would otherwise leave a view that never draws, not exit 3.
        private bool _answered;

        /// <summary>
        /// --json: each frame as one object of the server's three answers, <c>{"queues", "servers", "failures"}</c>; one
        /// indented with --once, else one a line (JSON Lines) every interval until Ctrl+C.
        /// </summary>
        public async Task<int> WriteJsonAsync(bool once, double seconds, CancellationToken cancellationToken)
        {
            try
            {
                while (true)
                {
                    if (once)
                    {
                        var (queues, servers, failures) = await ReadAsync(cancellationToken).ConfigureAwait(false);
                        context.Output.WriteJson(Frame(queues, servers, failures));
                        return ExitCodes.Ok;
                    }

                    JsonElement frame;
                    try
                    {
                        var (queues, servers, failures) = await ReadAsync(cancellationToken).ConfigureAwait(false);
                        frame = Frame(queues, servers, failures);
                        _answered = true;
                    }
                    catch (CliException e) when (e.Transient && _answered)
                    {
                        frame = ErrorFrame(e);
                    }

                    context.Output.Line(frame.GetRawText());
                    await Task.Delay(TimeSpan.FromSeconds(seconds), TimeProvider.System, cancellationToken).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return ExitCodes.Ok;
            }
        }

        /// <summary>A refresh that failed, as a line of its own: <c>{"error", "at"}</c>, the reason and when.</summary>
        private static JsonElement ErrorFrame(CliException failure) => JsonSerializer.SerializeToElement(new Dictionary<string, string>
        {
            ["error"] = failure.Message,
            ["at"] = TimeProvider.System.GetUtcNow().ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
        });

        private static JsonElement Frame(JsonElement queues, JsonElement servers, JsonElement failures)
        {
            var buffer = new ArrayBufferWriter<byte>();
            using (var writer = new Utf8JsonWriter(buffer))
            {
                writer.WriteStartObject();
                writer.WritePropertyName("queues");
                queues.GetProperty("queues").WriteTo(writer);
                writer.WritePropertyName("servers");
                servers.GetProperty("servers").WriteTo(writer);
                writer.WritePropertyName("failures");
                failures.GetProperty("jobs").WriteTo(writer);
                writer.WriteEndObject();
            }

            using var document = JsonDocument.Parse(buffer.WrittenMemory);
            return document.RootElement.Clone();
        }

        private async Task<(JsonElement Queues, JsonElement Servers, JsonElement Failures)> ReadAsync(CancellationToken cancellationToken)
        {
            var queues = context.Api.GetAsync("/queues", cancellationToken);
            var servers = context.Api.GetAsync("/servers", cancellationToken);
            var failures = context.Api.GetAsync("/jobs?status=FAILED&limit=5", cancellationToken);
            // All three finish before one's failure is thrown, so a failed refresh leaves none running into the next.
            await Task.WhenAll(queues, servers, failures).ConfigureAwait(false);
            return (await queues.ConfigureAwait(false), await servers.ConfigureAwait(false), await failures.ConfigureAwait(false));
        }

        /// <summary>
        /// The next frame of the live view. A refresh that fails in a way a later one can get past (the store frozen: a
        /// 503; the server restarting: unreachable) shows its reason on a line above the last frame's tables and the view
        /// goes on refreshing, so that it recovers when the server answers again; any other failure (a key refused, a
        /// wrong address), and any failure of the first refresh, ends the command with its exit code as every command does.
        /// </summary>
        public async Task<IRenderable> LiveFrameAsync(CancellationToken cancellationToken)
        {
            try
            {
                var (stamp, tables) = await FrameAsync(cancellationToken).ConfigureAwait(false);
                _lastTables = tables;
                _answered = true;
                return new Rows([stamp, .. tables]);
            }
            catch (CliException e) when (e.Transient && _answered)
            {
                // One line whatever the reason's length, so the tables below do not jump as failures come and go.
                var reason = CliOutput.Ellipsize($"Refresh failed at {Now()} UTC: {e.Message.ReplaceLineEndings(" ")}", context.Output.Console.Profile.Width);
                var failed = new Text(reason, new Style(Color.Red));
                return new Rows([Stamp(), failed, .. _lastTables]);
            }
        }

        /// <summary>One frame, for <c>--once</c>: a failure ends the command.</summary>
        public async Task<IRenderable> OnceAsync(CancellationToken cancellationToken)
        {
            var (stamp, tables) = await FrameAsync(cancellationToken).ConfigureAwait(false);
            return new Rows([stamp, .. tables]);
        }

        private Text Stamp() => new($"{context.Api.BaseAddress} — {Now()} UTC — Ctrl+C to quit");

        private static string Now() => TimeProvider.System.GetUtcNow().ToString("HH:mm:ss", CultureInfo.InvariantCulture);

        private async Task<(IRenderable Stamp, IRenderable[] Tables)> FrameAsync(CancellationToken cancellationToken)
        {
            var (queues, servers, failures) = await ReadAsync(cancellationToken).ConfigureAwait(false);
            var now = Environment.TickCount64;

            var queueTable = new Table().Border(TableBorder.Rounded).Title("Queues");
            foreach (var header in new[] { "QUEUE", "QUEUED", "WAITING", "RUNNING", "SCHEDULED", "RETRYING", "FAILED", "DONE/S", "FAILED/S", "LATENCY", "SERVERS", "PAUSED" })
            {
                queueTable.AddColumn(new TableColumn(header).RightAligned());
            }

            foreach (var queue in queues.GetProperty("queues").EnumerateArray())
            {
                var name = queue.GetProperty("name").GetString()!;
                var finished = Finished.Sum(f => Count(queue, f));
                var failed = Count(queue, "failed");
                var (doneRate, failRate) = Rates(name, finished, failed, now);
                queueTable.AddRow(
                    Markup.Escape(name), Cell(queue, "queued"), Cell(queue, "waiting"), Cell(queue, "running"), Cell(queue, "scheduled"), Cell(queue, "retrying"), Cell(queue, "failed"),
                    doneRate, failRate, Cell(queue, "latency_seconds") + " s", Cell(queue, "servers"), Cell(queue, "paused"));
            }

            var serverTable = new Table().Border(TableBorder.Rounded).Title("Servers");
            foreach (var header in new[] { "SERVER", "HOST", "PID", "RUNNING", "CONCURRENCY", "LAST HEARTBEAT" })
            {
                serverTable.AddColumn(header);
            }

            foreach (var server in servers.GetProperty("servers").EnumerateArray())
            {
                serverTable.AddRow(Cell(server, "id"), Cell(server, "host"), Cell(server, "pid"), Cell(server, "running"), Cell(server, "concurrency"), Cell(server, "last_heartbeat_at"));
            }

            var failureTable = FailureTable(failures);

            return (Stamp(), [queueTable, serverTable, failureTable]);
        }

        /// <summary>
        /// The newest failures, a line each: the job id, type, queue and time whole (the id is copied into <c>jobs show</c>),
        /// the error cut with an ellipsis to what they leave of the terminal's width.
        /// </summary>
        private Table FailureTable(JsonElement failures)
        {
            string[] headers = ["JOB", "TYPE", "QUEUE", "AT", "ERROR"];
            var rows = failures.GetProperty("jobs").EnumerateArray().Select(job =>
            {
                var errors = job.GetProperty("errors");
                var last = errors.GetArrayLength() > 0 ? errors[errors.GetArrayLength() - 1] : default;
                return new[] { CliOutput.Text(job, "job_id"), CliOutput.Text(job, "type"), CliOutput.Text(job, "queue"), CliOutput.Text(job, "completed_at"), CliOutput.Text(last, "message") };
            }).ToList();
            var widths = headers.Select((h, i) => rows.Select(r => r[i].GetCellWidth()).Append(h.Length).Max()).ToArray();

            // A rounded table takes a border between columns and at each side, and a space either side of a cell: 3 per column and 1.
            var errorWidth = Math.Min(widths[^1], Math.Max(20, context.Output.Console.Profile.Width - (3 * headers.Length) - 1 - widths[..^1].Sum()));
            var table = new Table().Border(TableBorder.Rounded).Title("Newest failures (this key's tenant)");
            foreach (var header in headers)
            {
                table.AddColumn(new TableColumn(header) { NoWrap = true });
            }

            table.Columns[^1].Width = errorWidth;
            foreach (var row in rows)
            {
                table.AddRow(row.Select((cell, i) => (IRenderable)new Text(i == headers.Length - 1 ? CliOutput.Ellipsize(cell, errorWidth) : cell)).ToArray());
            }

            return table;
        }

        /// <summary>Finished and failed jobs per second since the last frame; blank on the first. Retention deletes make a count fall: that reads as 0.</summary>
        private (string Done, string Failed) Rates(string queue, long finished, long failed, long now)
        {
            var rates = ("", "");
            if (_previous.TryGetValue(queue, out var before) && now > before.At)
            {
                var seconds = (now - before.At) / 1000.0;
                rates = (
                    Math.Max(0, (finished - before.Finished) / seconds).ToString("0.#", CultureInfo.InvariantCulture),
                    Math.Max(0, (failed - before.Failed) / seconds).ToString("0.#", CultureInfo.InvariantCulture));
            }

            _previous[queue] = (finished, failed, now);
            return rates;
        }

        private static long Count(JsonElement item, string field) =>
            item.TryGetProperty(field, out var value) && value.TryGetInt64(out var n) ? n : 0;

        private static string Cell(JsonElement item, string field) => Markup.Escape(CliOutput.Text(item, field));
    }
}
