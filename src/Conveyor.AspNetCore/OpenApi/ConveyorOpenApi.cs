using System.Globalization;
using System.Text.Json.Nodes;
using Conveyor.AspNetCore.JobsApi;
using Conveyor.AspNetCore.JobsApi.Contracts;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.OpenApi;

namespace Conveyor.AspNetCore.OpenApi;

/// <summary>
/// Completes the OpenAPI document (Microsoft.AspNetCore.OpenApi) where endpoint metadata cannot say enough: the
/// <c>POST /jobs</c> body and the <c>GET /jobs</c> query (the endpoints read them themselves, to name every bad field),
/// the headers, the API key schemes, the id and queue name patterns, and the JSON of payloads and results. The rules
/// come from the same constants the parsers use, so the document cannot say something the server does not do.
/// </summary>
internal static class ConveyorOpenApi
{
    public const string BearerScheme = "bearer";
    public const string ApiKeyScheme = "apiKey";

    /// <summary>A job id as the API accepts it (<see cref="JobId.IsValid"/>).</summary>
    public static readonly string JobIdPattern = $"^[A-Za-z0-9_.:-]{{1,{JobId.MaxLength}}}$";

    /// <summary>A queue name (<see cref="QueueName.IsValid"/>).</summary>
    public static readonly string QueueNamePattern = $"^[A-Za-z0-9_.-]{{1,{QueueName.MaxLength}}}$";

    /// <summary>A job type (<see cref="JobType.IsValid"/>); the length limit is given separately.</summary>
    public const string JobTypePattern = "^[a-z0-9_.-]+:[a-z0-9_.-]+$";

    public static void Configure(OpenApiOptions options)
    {
        options.AddDocumentTransformer((document, context, _) =>
        {
            var keysRequired = context.ApplicationServices.GetService<ApiKeyTenantResolver>()?.KeysRequired ?? false;
            document.Components ??= new OpenApiComponents();
            document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
            document.Components.SecuritySchemes[BearerScheme] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http,
                Scheme = "bearer",
                Description = "An API key as 'Authorization: Bearer <key>'." + (keysRequired ? "" : " This server has no keys configured: every request acts for the tenant 'default'."),
            };
            document.Components.SecuritySchemes[ApiKeyScheme] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.ApiKey,
                In = ParameterLocation.Header,
                Name = ApiKeyTenantResolver.ApiKeyHeader,
                Description = "The same API key as 'X-Api-Key: <key>'.",
            };
            return Task.CompletedTask;
        });
        options.AddOperationTransformer(TransformOperation);
        options.AddSchemaTransformer((schema, context, _) =>
        {
            if (context.JsonTypeInfo.Type == typeof(JobResponse) && schema.Properties is { } properties)
            {
                // Any JSON value, null included: an empty schema. The generated oneOf [null, RawJson] let null match both.
                properties["payload"] = new OpenApiSchema { Description = "The payload as enqueued (any JSON value); left out of listings." };
                properties["result"] = new OpenApiSchema { Description = "The result the handler stored: its JSON, a base64 string for a result that is not JSON, or null." };
            }

            if (context.JsonTypeInfo.Type == typeof(HealthCheckResponse))
            {
                schema.Required?.Remove("description");
            }

            if (context.JsonTypeInfo.Type == typeof(HealthResponse))
            {
                // /healthz answers {"status": ...} alone; only /readyz names the store.
                schema.Required?.Remove("store");
                schema.Required?.Remove("checks");
            }

            return Task.CompletedTask;
        });
    }

    private static Task TransformOperation(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        var metadata = context.Description.ActionDescriptor.EndpointMetadata;
        if (metadata.OfType<ConveyorTenantMetadata>().Any())
        {
            var keysRequired = context.ApplicationServices.GetService<ApiKeyTenantResolver>()?.KeysRequired ?? false;
            operation.Security ??= [];
            operation.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(BearerScheme, context.Document)] = [] });
            operation.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(ApiKeyScheme, context.Document)] = [] });
            if (!keysRequired)
            {
                operation.Security.Add(new OpenApiSecurityRequirement());
            }

            // The tenant filter answers these for every such endpoint.
            AddHeader(operation, "401", "WWW-Authenticate", "Bearer");
            AddHeader(operation, "429", "Retry-After", "Seconds to wait before trying again.");
            AddHeader(operation, "503", "Retry-After", "Seconds to wait before trying again.");
        }

        foreach (var parameter in operation.Parameters ?? [])
        {
            if (parameter is OpenApiParameter { In: ParameterLocation.Path } path)
            {
                path.Schema = path.Name switch
                {
                    "jobId" => new OpenApiSchema { Type = JsonSchemaType.String, Pattern = JobIdPattern, Description = "A job id, e.g. job_31c8927959d5442e90e3a6bc5a9188ec." },
                    "name" => new OpenApiSchema { Type = JsonSchemaType.String, Pattern = QueueNamePattern, Description = "A queue name." },
                    _ => path.Schema,
                };
            }
        }

        switch (metadata.OfType<IEndpointNameMetadata>().LastOrDefault()?.EndpointName)
        {
            case "CreateJob":
                operation.RequestBody = new OpenApiRequestBody
                {
                    Required = true,
                    Description = "The job: its type, payload and options. Any other field is refused.",
                    Content = new Dictionary<string, OpenApiMediaType> { ["application/json"] = new() { Schema = CreateJobSchema() } },
                };
                operation.Parameters ??= [];
                operation.Parameters.Add(new OpenApiParameter
                {
                    Name = IdempotencyKey.HeaderName,
                    In = ParameterLocation.Header,
                    Description = "Makes a repeat of the request answer the first job (202, Idempotent-Replayed: true); the same key with another request is a 409.",
                    Schema = new OpenApiSchema { Type = JsonSchemaType.String, Pattern = $"^[!-~]{{1,{IdempotencyKey.MaxLength}}}$" },
                });
                AddHeader(operation, "202", "Location", "The job: GET it for its status.");
                AddHeader(operation, "202", "Idempotent-Replayed", "'true' when an Idempotency-Key repeat answered the first job.");
                break;
            case "ListJobs":
                operation.Parameters ??= [];
                var options = context.ApplicationServices.GetRequiredService<IOptions<ConveyorApiOptions>>().Value;
                AddQuery(operation, "status", "Only jobs in this status.", new OpenApiSchema
                {
                    Type = JsonSchemaType.String,
                    Enum = Enum.GetValues<JobState>().Select(s => (JsonNode)JsonValue.Create(s.ToApiStatus())!).ToList(),
                });
                AddQuery(operation, "type", "Only jobs of this type.", new OpenApiSchema { Type = JsonSchemaType.String, Pattern = JobTypePattern, MaxLength = JobType.MaxLength });
                AddQuery(operation, "queue", "Only jobs in this queue.", new OpenApiSchema { Type = JsonSchemaType.String, Pattern = QueueNamePattern });
                AddQuery(operation, "limit", $"Page size; {options.DefaultPageSize} when absent.", new OpenApiSchema
                {
                    Type = JsonSchemaType.Integer,
                    Minimum = "1",
                    Maximum = options.MaxPageSize.ToString(CultureInfo.InvariantCulture),
                });
                AddQuery(operation, "cursor", "The next_cursor of the previous page.", new OpenApiSchema { Type = JsonSchemaType.String });
                break;
            case "CancelJob" or "RetryJob":
                AddHeader(operation, "202", "Location", "The job.");
                break;
        }

        return Task.CompletedTask;
    }

    private static OpenApiSchema CreateJobSchema()
    {
        static OpenApiSchema Seconds(string description, double minimum) => new()
        {
            Type = JsonSchemaType.Number,
            Minimum = minimum.ToString(CultureInfo.InvariantCulture),
            Maximum = CreateJobRequestParser.MaxSeconds.ToString(CultureInfo.InvariantCulture),
            Description = description,
        };

        static OpenApiSchema Timestamp(string description) => new() { Type = JsonSchemaType.String, Format = "date-time", Description = description };

        var properties = new Dictionary<string, IOpenApiSchema>
        {
            ["type"] = new OpenApiSchema { Type = JsonSchemaType.String, Pattern = JobTypePattern, MaxLength = JobType.MaxLength, Description = "The job type, {domain}:{action}, one this server accepts (e.g. note:archive)." },
            ["payload"] = new OpenApiSchema { Description = "Any JSON value ({} when absent or null). For a job type whose handler runs in this server it must fit the handler's payload record: a property the record does not have is refused." },
            ["queue"] = new OpenApiSchema { Type = JsonSchemaType.String, Pattern = QueueNamePattern, Description = "The queue; 'default' when absent." },
            ["max_retry"] = new OpenApiSchema { Type = JsonSchemaType.Integer, Minimum = "0", Maximum = CreateJobRequestParser.MaxRetryLimit.ToString(CultureInfo.InvariantCulture), Description = "Retries after the first attempt; Conveyor:DefaultMaxRetry when absent." },
            ["timeout_seconds"] = Seconds("Longest one attempt may run.", CreateJobRequestParser.MinPositiveSeconds),
            ["deadline"] = Timestamp("RFC 3339; the job must not run after it. Must be in the future."),
            ["process_at"] = Timestamp("RFC 3339; run no earlier. Not with process_in_seconds; not after the deadline."),
            ["process_in_seconds"] = Seconds("Run no earlier than this long from now. Not with process_at.", 0),
            ["unique_key"] = new OpenApiSchema { Type = JsonSchemaType.String, MinLength = 1, MaxLength = CreateJobRequestParser.MaxUniqueKeyLength, Description = "While an unfinished job of the tenant holds the key, another create with it is a 409. Needs unique_for_seconds." },
            ["unique_for_seconds"] = Seconds("How long unique_key holds. Needs unique_key.", CreateJobRequestParser.MinPositiveSeconds),
            ["retention_seconds"] = Seconds("How long the finished job is kept; Conveyor:DefaultRetention when absent.", 0),
        };
        return new OpenApiSchema
        {
            Type = JsonSchemaType.Object,
            Required = new HashSet<string> { "type" },
            Properties = properties,
            AdditionalPropertiesAllowed = false,
            DependentRequired = new Dictionary<string, HashSet<string>>
            {
                ["unique_key"] = ["unique_for_seconds"],
                ["unique_for_seconds"] = ["unique_key"],
            },
        };
    }

    private static void AddQuery(OpenApiOperation operation, string name, string description, OpenApiSchema schema) =>
        operation.Parameters!.Add(new OpenApiParameter { Name = name, In = ParameterLocation.Query, Description = description, Schema = schema });

    private static void AddHeader(OpenApiOperation operation, string status, string name, string description)
    {
        if (operation.Responses?.TryGetValue(status, out var response) == true && response is OpenApiResponse concrete)
        {
            concrete.Headers ??= new Dictionary<string, IOpenApiHeader>();
            concrete.Headers[name] = new OpenApiHeader { Description = description, Schema = new OpenApiSchema { Type = JsonSchemaType.String } };
        }
    }
}

/// <summary>Marks an endpoint that resolves a Conveyor tenant from an API key, for the OpenAPI document's security.</summary>
internal sealed class ConveyorTenantMetadata;
