using System.Globalization;

namespace Conveyor.Server.SampleJobs;

/// <summary>
/// Imports <c>sku,qty</c> rows into <see cref="InventoryDatabase"/> in chunks, reporting progress after each. A bad row
/// (no sku, a qty that is not a positive integer, a wrong number of columns) becomes one item error and the others
/// are imported, so the job ends PARTIAL_SUCCESS; with no bad row it ends SUCCESS. A payload that can never import
/// (another format, no header, or rows of which none is valid) fails at once without retries, keeping the row errors.
/// </summary>
public sealed class BulkImportHandler(InventoryDatabase inventory, TimeProvider timeProvider) : IJobHandler<BulkImport>
{
    public const int MaxSkuLength = 64;
    public const int ChunkSize = 500;

    public async Task HandleAsync(BulkImport payload, JobContext context, CancellationToken cancellationToken)
    {
        if (!string.Equals(payload.Format, "csv", StringComparison.OrdinalIgnoreCase))
        {
            throw new SkipRetryException($"format must be \"csv\"; got {(payload.Format is null ? "nothing" : $"\"{payload.Format}\"")}.");
        }

        var lines = (payload.Data ?? "").Split('\n');
        var header = lines[0].Trim().TrimEnd('\r');
        if (!string.Equals(header.Replace(" ", "", StringComparison.Ordinal), "sku,qty", StringComparison.OrdinalIgnoreCase))
        {
            throw new SkipRetryException($"data must start with the header line \"sku,qty\"; it starts with \"{(header.Length > 40 ? header[..40] + "..." : header)}\".");
        }

        var valid = new List<InventoryRow>();
        var rejected = 0;
        for (var i = 1; i < lines.Length; i++)
        {
            var line = lines[i].TrimEnd('\r');
            if (line.Trim().Length == 0)
            {
                continue;
            }

            var lineNumber = (i + 1).ToString(CultureInfo.InvariantCulture);
            var error = Validate(line, out var row);
            if (error is not null)
            {
                context.AddItemError($"line {lineNumber}", error);
                rejected++;
                continue;
            }

            valid.Add(row!);
        }

        if (valid.Count == 0 && rejected > 0)
        {
            // Nothing was imported: a "partial success" would read as progress to whoever polls the job. The item
            // errors recorded above are stored with the failure, so the caller still sees what was wrong with each row.
            throw new SkipRetryException(rejected == 1
                ? "the only row is not valid; nothing was imported."
                : $"none of the {rejected} rows is valid; nothing was imported.");
        }

        var imported = 0;
        foreach (var chunk in valid.Chunk(ChunkSize))
        {
            await inventory.UpsertAsync(context.Tenant, context.JobId, chunk, timeProvider.GetUtcNow(), cancellationToken);
            imported += chunk.Length;
            await context.ReportProgressAsync(imported * 100 / valid.Count, cancellationToken);
        }

        context.SetJsonResult(new ImportSummary(imported, rejected), SampleJobEndpoints.InventoryUrl);
    }

    private static string? Validate(string line, out InventoryRow? row)
    {
        row = null;
        var fields = line.Split(',');
        if (fields.Length != 2)
        {
            return $"expected 2 columns (sku,qty), found {fields.Length}.";
        }

        var sku = fields[0].Trim();
        var qty = fields[1].Trim();
        if (sku.Length == 0)
        {
            return "sku is missing.";
        }

        if (sku.Length > MaxSkuLength)
        {
            return $"sku is longer than {MaxSkuLength} characters.";
        }

        if (!int.TryParse(qty, NumberStyles.None, CultureInfo.InvariantCulture, out var quantity) || quantity <= 0)
        {
            return $"qty \"{(qty.Length > 20 ? qty[..20] + "..." : qty)}\" is not a positive integer.";
        }

        row = new InventoryRow(sku, quantity);
        return null;
    }
}
