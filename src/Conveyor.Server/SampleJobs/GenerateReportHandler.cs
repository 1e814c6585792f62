using System.Globalization;
using System.Text;

namespace Conveyor.Server.SampleJobs;

/// <summary>
/// Writes the report in ten steps, reporting progress after each, then points the job's result_url at
/// <c>/reports/{job_id}.csv</c>, which only the job's tenant can download. The file is written under a temporary
/// name and renamed at the end, so a download never sees half a report, and a re-run after a crash starts over. The files
/// of reports whose job was purged go too (<see cref="ReportFiles"/>).
/// </summary>
public sealed class GenerateReportHandler(SampleDataDirectory data, ReportFiles files, IConfiguration configuration, TimeProvider timeProvider) : IJobHandler<GenerateReport>
{
    public const int Steps = 10;

    public async Task HandleAsync(GenerateReport payload, JobContext context, CancellationToken cancellationToken)
    {
        var rows = payload.Rows ?? GenerateReport.DefaultRows;
        if (rows is < 1 or > GenerateReport.MaxRows)
        {
            throw new SkipRetryException($"rows must be between 1 and {GenerateReport.MaxRows}; got {rows}.");
        }

        var stepDelay = configuration.GetValue("Conveyor:Samples:ReportStepDelay", TimeSpan.FromMilliseconds(300));
        var path = data.ReportPath(context.Tenant, context.JobId)
            ?? throw new SkipRetryException($"tenant '{context.Tenant}' has no folder of its own under reports/; its report is not written.");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temporary = path + ".part";
        long bytes;
        await using (var writer = new StreamWriter(temporary, append: false, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false)))
        {
            await writer.WriteLineAsync("row,sku,quantity,unit_price,total");
            var written = 0;
            for (var step = 1; step <= Steps; step++)
            {
                var until = rows * step / Steps;
                var chunk = new StringBuilder();
                for (; written < until; written++)
                {
                    AppendRow(chunk, written + 1);
                }

                await writer.WriteAsync(chunk, cancellationToken);
                await Task.Delay(stepDelay, timeProvider, cancellationToken);
                await context.ReportProgressAsync(step * 100 / Steps, cancellationToken);
            }

            await writer.FlushAsync(cancellationToken);
            bytes = writer.BaseStream.Length;
        }

        File.Move(temporary, path, overwrite: true);
        context.SetJsonResult(new ReportSummary(rows, bytes, "text/csv"), SampleJobEndpoints.ReportUrl(context.JobId));
        await files.PruneAsync(context.Tenant, cancellationToken);
    }

    private static void AppendRow(StringBuilder builder, int row)
    {
        // Deterministic data, so a report can be checked: the same row always has the same values.
        var quantity = (row * 7 % 50) + 1;
        var unitPrice = ((row * 37 % 9000) + 100) / 100m;
        builder.Append(CultureInfo.InvariantCulture, $"{row},SKU-{row % 1000:D4},{quantity},{unitPrice:F2},{quantity * unitPrice:F2}\n");
    }
}

/// <summary>The stored result of a report: how many rows and bytes, and the media type of the file at result_url.</summary>
public sealed record ReportSummary(int Rows, long Bytes, string ContentType);
