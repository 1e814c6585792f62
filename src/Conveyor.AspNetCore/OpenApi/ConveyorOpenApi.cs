using System.Globalization;
using System.Text.Json.Nodes;
using Conveyor.AspNetCore.JobsApi;
using Conveyor.AspNetCore.JobsApi.Contracts;
using Conveyor.AspNetCore.SchedulesApi;
using Conveyor.AspNetCore.SchedulesApi.Contracts;
using Conveyor.Scheduling;
using Conveyor.Storage;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.AspNetCore.Routing;
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

    /// <summary>
    /// A name's pattern as a path segment: not '.' or '..' alone. Those are a URL's dot segments, which the server removes
    /// before routing (GET /jobs/. is the listing), so no path can name a job, queue or schedule called that.
    /// </summary>
    public static string PathSegment(string pattern) => "^(?!\\.\\.?$)" + pattern[1..];

    /// <summary>A batch's (or workflow's) id.</summary>
    public const string BatchIdPattern = "^batch_[0-9a-f]{32}$";

    /// <summary>A queue name (<see cref="QueueName.IsValid"/>).</summary>
    public static readonly string QueueNamePattern = $"^[A-Za-z0-9_.-]{{1,{QueueName.MaxLength}}}$";

    /// <summary>A tenant (<see cref="TenantId.IsValid"/>): a queue name's shape, but not '.' or '..'.</summary>
    public static readonly string TenantPattern = PathSegment(QueueNamePattern);

    /// <summary>A listing's tenant: one tenant, or '*' for every tenant's (admin keys).</summary>
    private static readonly string TenantOrEveryPattern = $"^(?!\\.\\.?$)([A-Za-z0-9_.-]{{1,{QueueName.MaxLength}}}|\\*)$";

    /// <summary>A schedule name (<see cref="ScheduleValidator.IsValidName"/>).</summary>
    public static readonly string ScheduleNamePattern = $"^[A-Za-z0-9_.:-]{{1,{ScheduleValidator.MaxNameLength}}}$";

    /// <summary>A signal name (<see cref="Storage.JobSignal.IsValidName"/>).</summary>
    public static readonly string SignalNamePattern = $"^[A-Za-z0-9_.:-]{{1,{Storage.JobSignal.MaxNameLength}}}$";

    /// <summary>A workflow step's name (<see cref="WorkflowBuilder.MaxStepNameLength"/>).</summary>
    public static readonly string WorkflowStepNamePattern = $"^[A-Za-z0-9_.:-]{{1,{WorkflowBuilder.MaxStepNameLength}}}$";

    /// <summary>Text without control characters (<see cref="char.IsControl(char)"/>: U+0000 to U+001F, U+007F to U+009F).</summary>
    public const string NoControlCharacters = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$";

    /// <summary>A job type (<see cref="JobType.IsValid"/>); the length limit is given separately.</summary>
    public const string JobTypePattern = "^[a-z0-9_.-]+:[a-z0-9_.-]+$";

    /// <summary>How every request body reads its fields (the one null rule, see <c>JsonRequest.TryGetOptional</c>).</summary>
    private const string AnyOtherField = "Any other field is refused. A field that may be left out may also be null, which is the same as leaving it out.";

    public static void Configure(OpenApiOptions options)
    {
        options.AddDocumentTransformer((document, context, _) =>
        {
            // HEAD of every GET is answered (the same status and headers, no body) but is not an operation of its own.
            foreach (var path in document.Paths?.Values.OfType<OpenApiPathItem>() ?? [])
            {
                path.Operations?.Remove(System.Net.Http.HttpMethod.Head);
            }

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
            // The web serializer reads numbers from strings too, so the generator says "integer or string" with a digits
            // pattern; the API writes numbers, and its request readers take numbers only.
            if (schema.Type is { } type && (type & (JsonSchemaType.Integer | JsonSchemaType.Number)) != 0 && (type & JsonSchemaType.String) != 0)
            {
                schema.Type = type & ~JsonSchemaType.String;
                schema.Pattern = null;
            }

            if (schema.Properties is { } anyProperties)
            {
                DeclareTimestampsAndJobStatuses(context.JsonTypeInfo.Type, anyProperties);
            }

            if (context.JsonTypeInfo.Type == typeof(JobResponse) && schema.Properties is { } properties)
            {
                // Any JSON value, null included: an empty schema. The generated oneOf [null, RawJson] let null match both.
                properties["payload"] = new OpenApiSchema { Description = "The payload as enqueued (any JSON value); left out of listings and of the answers of cancel, retry and signal (read the job for it)." };
                properties["result"] = new OpenApiSchema { Description = "The result the handler stored: its JSON, a base64 string for a result that is not JSON, or null." };
                if (properties.TryGetValue("errors", out var errors) && errors is OpenApiSchema errorsSchema)
                {
                    errorsSchema.Description = "Oldest first, at most 20: the job's first error and its 19 most recent; errors in between are dropped (their attempt numbers show the gap).";
                }
            }

            if (context.JsonTypeInfo.Type == typeof(JobErrorResponse) && schema.Properties is { } errorProperties
                && errorProperties.TryGetValue("stack_trace", out var stackTrace) && stackTrace is OpenApiSchema stackTraceSchema)
            {
                stackTraceSchema.Description = "The exception's stack trace for an attempt that threw (at most 8,192 characters), null otherwise; left out of listings and of the answers of cancel, retry and signal (read the job for it).";
            }

            if (context.JsonTypeInfo.Type == typeof(JobStepResponse) && schema.Properties is { } stepProperties)
            {
                stepProperties["result"] = new OpenApiSchema
                {
                    Description = "A step's result (its JSON, a base64 string for one that is not JSON, or null), a signal's payload (null when its wait timed out), or a wait's or sleep's deadline (an RFC 3339 string).",
                };
                stepProperties["kind"] = Enumeration(["step", "signal", "wait", "sleep"], "step: a finished durable step; signal: a delivered signal; wait: the deadline of a wait for a signal; sleep: the deadline of a durable sleep.");
            }

            if ((context.JsonTypeInfo.Type == typeof(WorkflowsApi.Contracts.BatchResponse) || context.JsonTypeInfo.Type == typeof(WorkflowsApi.Contracts.WorkflowResponse)
                    || context.JsonTypeInfo.Type == typeof(WorkflowsApi.Contracts.BatchCreatedResponse) || context.JsonTypeInfo.Type == typeof(WorkflowsApi.Contracts.WorkflowCreatedResponse))
                && schema.Properties is { } batchProperties)
            {
                batchProperties["status"] = Enumeration(
                    [.. Enum.GetValues<BatchState>().Select(static s => s.ToApiStatus())],
                    "RUNNING until every job finished; SUCCESS when every one succeeded, COMPLETED when some did not; CANCELLED when cancelled as a whole.");
            }

            if ((context.JsonTypeInfo.Type == typeof(Microsoft.AspNetCore.Mvc.ProblemDetails) || context.JsonTypeInfo.Type == typeof(Microsoft.AspNetCore.Http.HttpValidationProblemDetails))
                && schema.Properties is { } problemProperties)
            {
                // The members every problem of this API may carry beyond RFC 9457's, so that generated clients expose them.
                problemProperties["traceId"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "The W3C trace id of the request, to find it in the server's log and traces." };
                problemProperties["field"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "413 and some 403: the request field the refusal is about (a 400 names it in errors)." };
                problemProperties["limit"] = new OpenApiSchema { Type = JsonSchemaType.Integer, Format = "int64", Description = "413: the largest size accepted for field, in bytes." };
            }

            if (context.JsonTypeInfo.Type == typeof(HealthCheckResponse))
            {
                schema.Required?.Remove("description");
            }

            if (context.JsonTypeInfo.Type == typeof(ScheduleResponse) && schema.Properties is { } scheduleProperties)
            {
                scheduleProperties["payload"] = new OpenApiSchema { Description = "The payload of every tick's job (any JSON value)." };
                scheduleProperties["misfire"] = Enumeration(SchedulePolicyNames.Misfires, "What happens to ticks missed while no server ran.");
                scheduleProperties["overlap"] = Enumeration(SchedulePolicyNames.Overlaps, "What happens at a tick while the previous tick's job is unfinished.");
                scheduleProperties["source"] = Enumeration(SchedulePolicyNames.Sources, "code: AddSchedule or Conveyor:Schedules, written at every server start (not replaced or deleted through the API); runtime: created through the API or IScheduleClient.");
                scheduleProperties["next_fire_times"] = new OpenApiSchema
                {
                    Type = JsonSchemaType.Array,
                    Items = new OpenApiSchema { Type = JsonSchemaType.String, Format = "date-time" },
                    MaxItems = ScheduleResponseMapper.NextFireTimesShown,
                    Description = "The next ticks (RFC 3339, UTC), earliest first; empty while paused, and for a cron that never ticks (a schedule only trigger runs).",
                };
            }

            if (context.JsonTypeInfo.Type == typeof(LimitsApi.Contracts.LimitResponse) && schema.Properties is { } limitProperties)
            {
                limitProperties["kind"] = Enumeration(LimitsApi.LimitResponseMapper.Kinds, "concurrency: jobs running at once; rate: jobs started per period.");
                limitProperties["partition"] = Enumeration(LimitsApi.LimitResponseMapper.Partitions, "none: one count for every job the limit matches; tenant: one count per tenant.");
                limitProperties["source"] = Enumeration(LimitsApi.LimitResponseMapper.Sources, "configuration: written by a server from Conveyor:Limits; api: set through PUT /limits/{kind}/{name}, overriding the configuration until deleted.");
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
            if (context.Description.HttpMethod is not ("GET" or "HEAD" or "OPTIONS"))
            {
                DescribeCrossOriginRefusal(operation);
            }
        }

        foreach (var parameter in operation.Parameters ?? [])
        {
            if (parameter is OpenApiParameter { In: ParameterLocation.Path } path)
            {
                var isSchedule = context.Description.RelativePath?.StartsWith("schedules/", StringComparison.Ordinal) == true
                    || context.Description.RelativePath?.Contains("/schedules/", StringComparison.Ordinal) == true;
                var isLimit = context.Description.RelativePath?.StartsWith("limits/", StringComparison.Ordinal) == true
                    || context.Description.RelativePath?.Contains("/limits/", StringComparison.Ordinal) == true;
                var isSignal = context.Description.RelativePath?.Contains("/signals/", StringComparison.Ordinal) == true;
                path.Schema = path.Name switch
                {
                    "name" when isSignal => new OpenApiSchema { Type = JsonSchemaType.String, Pattern = PathSegment(SignalNamePattern), Description = "A signal name, e.g. approved." },
                    "kind" when isLimit => Enumeration(LimitsApi.LimitResponseMapper.Kinds, "concurrency (jobs running at once) or rate (jobs started per period)."),
                    "name" when isLimit => new OpenApiSchema { Type = JsonSchemaType.String, Pattern = PathSegment(QueueNamePattern), Description = "A limit name, unique within its kind, e.g. imports-per-tenant." },
                    "name" when isSchedule => new OpenApiSchema { Type = JsonSchemaType.String, Pattern = PathSegment(ScheduleNamePattern), Description = "A schedule name, e.g. note:cleanup-old." },
                    "jobId" => new OpenApiSchema { Type = JsonSchemaType.String, Pattern = PathSegment(JobIdPattern), Description = "A job id, e.g. job_31c8927959d5442e90e3a6bc5a9188ec." },
                    "batchId" or "workflowId" => new OpenApiSchema { Type = JsonSchemaType.String, Pattern = BatchIdPattern, Description = "A batch or workflow id: 'batch_' and 32 lowercase hex digits." },
                    "name" => new OpenApiSchema { Type = JsonSchemaType.String, Pattern = PathSegment(QueueNamePattern), Description = "A queue name." },
                    _ => path.Schema,
                };
            }
        }

        DescribeServerAnswers(operation);
        var endpointName = metadata.OfType<IEndpointNameMetadata>().LastOrDefault()?.EndpointName;
        var jobTypes = context.ApplicationServices.GetService<JobTypeCatalog>()?.Types is { Count: > 0 } types ? types.Order(StringComparer.Ordinal).ToArray() : null;
        switch (endpointName)
        {
            case "CreateJob":
                operation.RequestBody = new OpenApiRequestBody
                {
                    Required = true,
                    Description = "The job: its type, payload and options, and the jobs it waits for. " + AnyOtherField,
                    Content = new Dictionary<string, OpenApiMediaType> { ["application/json"] = new() { Schema = CreateJobSchema(jobTypes, continuation: true) } },
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
                foreach (var (name, (description, schema)) in FilterSchemas())
                {
                    if (name != "status")
                    {
                        AddQuery(operation, name, description, schema);
                    }
                }

                AddQuery(operation, "limit", $"Page size; {options.DefaultPageSize} when absent.", new OpenApiSchema
                {
                    Type = JsonSchemaType.Integer,
                    Minimum = "1",
                    Maximum = options.MaxPageSize.ToString(CultureInfo.InvariantCulture),
                });
                AddQuery(operation, "cursor", "The next_cursor of the previous page.", new OpenApiSchema { Type = JsonSchemaType.String, MinLength = 1 });
                break;
            case "ListBatches" or "ListWorkflows":
                operation.Parameters ??= [];
                var pageSizes = context.ApplicationServices.GetRequiredService<IOptions<ConveyorApiOptions>>().Value;
                var what = endpointName == "ListBatches" ? "batches" : "workflows";
                AddQuery(operation, "status", $"Only {what} in this status.", new OpenApiSchema
                {
                    Type = JsonSchemaType.String,
                    Enum = Enum.GetValues<BatchState>().Select(s => (JsonNode)JsonValue.Create(s.ToApiStatus())!).ToList(),
                });
                AddQuery(operation, "tenant", $"Admin keys: another tenant's {what}, or '*' for every tenant's. A tenant key may name only its own tenant (403 otherwise). The key's tenant when absent.", new OpenApiSchema { Type = JsonSchemaType.String, Pattern = TenantOrEveryPattern });
                AddQuery(operation, "limit", $"Page size; {pageSizes.DefaultPageSize} when absent.", new OpenApiSchema
                {
                    Type = JsonSchemaType.Integer,
                    Minimum = "1",
                    Maximum = pageSizes.MaxPageSize.ToString(CultureInfo.InvariantCulture),
                });
                AddQuery(operation, "cursor", "The next_cursor of the previous page.", new OpenApiSchema { Type = JsonSchemaType.String, MinLength = 1 });
                break;
            case "CreateBatch" or "AddBatchJobs" or "CreateWorkflow":
                var adding = endpointName == "AddBatchJobs";
                operation.RequestBody = new OpenApiRequestBody
                {
                    Required = true,
                    Description = endpointName == "CreateWorkflow"
                        ? "The workflow: named steps, each a job as POST /jobs takes it and the steps it runs after. " + AnyOtherField
                        : adding ? "The jobs to add, each as POST /jobs takes it. " + AnyOtherField : "The batch: its jobs and callbacks, each as POST /jobs takes it. " + AnyOtherField,
                    Content = new Dictionary<string, OpenApiMediaType>
                    {
                        ["application/json"] = new() { Schema = endpointName == "CreateWorkflow" ? WorkflowSchema(jobTypes) : BatchSchema(adding, jobTypes) },
                    },
                };
                operation.Parameters ??= [];
                AddQuery(operation, "tenant", "Admin keys only: the tenant to act in, when it is not the key's own; a tenant key may name only its own tenant (403 otherwise). Every job is created in this tenant.", new OpenApiSchema { Type = JsonSchemaType.String, Pattern = TenantPattern });
                operation.Parameters.Add(new OpenApiParameter
                {
                    Name = IdempotencyKey.HeaderName,
                    In = ParameterLocation.Header,
                    Description = adding
                        ? "Makes a repeat of the add answer the first one (201, Idempotent-Replayed: true), also once the batch has finished; the same key with other jobs is a 409."
                        : "Makes a repeat of the request answer the first one (201, Idempotent-Replayed: true); the same key with another request is a 409.",
                    Schema = new OpenApiSchema { Type = JsonSchemaType.String, Pattern = $"^[!-~]{{1,{IdempotencyKey.MaxLength}}}$" },
                });
                AddHeader(operation, "201", "Idempotent-Replayed", "'true' when an Idempotency-Key repeat answered the first request.");

                AddHeader(operation, "201", "Location", endpointName == "CreateWorkflow" ? "The workflow: GET it for its steps' status." : "The batch: GET it for its counts and progress.");
                break;
            case "GetBatch" or "CancelBatch" or "GetWorkflow":
                operation.Parameters ??= [];
                AddQuery(operation, "tenant", "Admin keys only: the batch's tenant, when it is not the key's own; a tenant key may name only its own tenant (403 otherwise).", new OpenApiSchema { Type = JsonSchemaType.String, Pattern = TenantPattern });
                break;
            case "GetJob" or "CancelJob" or "RetryJob" or "DeleteJob" or "GetJobSteps":
                operation.Parameters ??= [];
                AddQuery(operation, "tenant", "Admin keys only: the job's tenant, when it is not the key's own (as an every-tenant listing shows it); a tenant key may name only its own tenant (403 otherwise).", new OpenApiSchema { Type = JsonSchemaType.String, Pattern = TenantPattern });
                if (endpointName is "CancelJob" or "RetryJob")
                {
                    AddHeader(operation, "202", "Location", "The job.");
                }

                break;
            case "SignalJob":
                operation.RequestBody = new OpenApiRequestBody
                {
                    Required = false,
                    Description = "The signal's payload: any JSON value nested at most 64 levels deep, up to 1 MiB; an empty body is null. The job's handler reads it from its wait.",
                    Content = new Dictionary<string, OpenApiMediaType> { ["application/json"] = new() { Schema = new OpenApiSchema { Description = "Any JSON value nested at most 64 levels deep." } } },
                };
                operation.Parameters ??= [];
                AddQuery(operation, "tenant", "Admin keys only: the job's tenant, when it is not the key's own; a tenant key may name only its own tenant (403 otherwise).", new OpenApiSchema { Type = JsonSchemaType.String, Pattern = TenantPattern });
                AddHeader(operation, "202", "Location", "The job.");
                break;
            case "BulkJobs":
                operation.RequestBody = new OpenApiRequestBody
                {
                    Required = true,
                    Description = "The action and either ids, or a filter with a cursor and a limit. " + AnyOtherField,
                    Content = new Dictionary<string, OpenApiMediaType> { ["application/json"] = new() { Schema = BulkSchema() } },
                };
                break;
            case "GetThroughput":
                operation.Parameters ??= [];
                AddQuery(operation, "minutes", $"How far back, 1 to {StatsApi.StatsEndpoints.MaxMinutes}; {StatsApi.StatsEndpoints.DefaultMinutes} when absent. Buckets are 1 s up to 5 minutes and grow so that there are at most {StatsApi.StatsEndpoints.MaxBuckets}.", new OpenApiSchema
                {
                    Type = JsonSchemaType.Integer,
                    Minimum = "1",
                    Maximum = StatsApi.StatsEndpoints.MaxMinutes.ToString(CultureInfo.InvariantCulture),
                });
                break;
            case "CreateSchedule" or "PutSchedule":
                var creating = endpointName == "CreateSchedule";
                operation.RequestBody = new OpenApiRequestBody
                {
                    Required = true,
                    Description = creating
                        ? "The schedule: its name, cron expression, job type and options. " + AnyOtherField
                        : "The schedule's definition; name may be left out (or must be the one in the URL). " + AnyOtherField,
                    Content = new Dictionary<string, OpenApiMediaType> { ["application/json"] = new() { Schema = ScheduleSchema(creating, jobTypes) } },
                };
                AddHeader(operation, "201", "Location", "The schedule.");
                break;
            case "ListSchedules":
                operation.Parameters ??= [];
                var pages = context.ApplicationServices.GetRequiredService<IOptions<ConveyorApiOptions>>().Value;
                AddQuery(operation, "limit", $"Page size; {pages.DefaultPageSize} when absent.", new OpenApiSchema
                {
                    Type = JsonSchemaType.Integer,
                    Minimum = "1",
                    Maximum = pages.MaxPageSize.ToString(CultureInfo.InvariantCulture),
                });
                AddQuery(operation, "cursor", "The next_cursor of the previous page (of a listing of the same tenant, or of every tenant).", new OpenApiSchema
                {
                    Type = JsonSchemaType.String,
                    MinLength = 1,
                    Pattern = $"^s\\.([A-Za-z0-9_.-]{{1,{QueueName.MaxLength}}}/)?[A-Za-z0-9_.:-]{{1,{ScheduleValidator.MaxNameLength}}}$",
                });
                AddQuery(operation, "tenant", "Admin keys: another tenant's schedules, or '*' for every tenant's (schedules defined in code or configuration are the 'default' tenant's). A tenant key may name only its own tenant (403 otherwise). The key's tenant when absent.", new OpenApiSchema { Type = JsonSchemaType.String, Pattern = TenantOrEveryPattern });
                break;
            case "GetSchedule" or "DeleteSchedule" or "PauseSchedule" or "ResumeSchedule" or "TriggerSchedule":
                operation.Parameters ??= [];
                AddQuery(operation, "tenant", "Admin keys only: the schedule's tenant, when it is not the key's own ('default' for a schedule defined in code or configuration); a tenant key may name only its own tenant (403 otherwise).", new OpenApiSchema { Type = JsonSchemaType.String, Pattern = TenantPattern });
                if (endpointName == "TriggerSchedule")
                {
                    AddHeader(operation, "202", "Location", "The job enqueued: GET it for its status.");
                }

                break;
            case "PutLimit":
                operation.RequestBody = new OpenApiRequestBody
                {
                    Required = true,
                    Description = "The limit: for kind concurrency queue and max; for kind rate queue, limit and period_seconds; job_type and partition for both, burst for rate. " + AnyOtherField,
                    Content = new Dictionary<string, OpenApiMediaType> { ["application/json"] = new() { Schema = LimitSchema() } },
                };
                AddHeader(operation, "201", "Location", "The limit.");
                break;
        }

        if (operation.RequestBody is not null)
        {
            // Known only once the body is described (some in the switch). The endpoint reads the body, so Kestrel's timeout
            // reaches it as an exception and the answer is a problem, as the 415 of the same operation is.
            var problem = operation.Responses!.TryGetValue("415", out var unsupported) && unsupported is OpenApiResponse { Content: { } content }
                ? new Dictionary<string, OpenApiMediaType>(content)
                : null;
            operation.Responses!["408"] = new OpenApiResponse
            {
                Description = "The body did not arrive in time (fewer bytes than its Content-Length, or sent too slowly). " + HeadersTimeout,
                Content = problem,
            };
            AddHeader(operation, "415", "Accept-Encoding", "identity, when the body came with a Content-Encoding: the API reads bodies as sent.");
        }

        return Task.CompletedTask;
    }

    /// <summary>
    /// The answers the server (Kestrel) gives itself, before any application code runs and without a body: 400 for a
    /// request it cannot parse (a malformed request line, a header value whose bytes are not UTF-8; one in valid UTF-8
    /// reaches the application), 414 for a request line over its limit, 431 for headers over theirs, 408 for headers that
    /// did not arrive within its RequestHeadersTimeout. ASP.NET Core has no hook to answer them as problems
    /// (dotnet/aspnetcore#4726).
    /// </summary>
    private static void DescribeServerAnswers(OpenApiOperation operation)
    {
        const string ServersOwn = "The server's own answer (Kestrel), before the application, without a body: ";
        operation.Responses ??= [];
        if (operation.Responses.TryGetValue("400", out var badRequest) && badRequest is OpenApiResponse concrete)
        {
            if (concrete.Description?.Contains("without a body", StringComparison.Ordinal) != true)
        {
            concrete.Description = (string.IsNullOrEmpty(concrete.Description) || concrete.Description == "Bad Request" ? "Bad Request: the problem names the field." : concrete.Description)
                + " A request the server cannot parse (a malformed request line, a header value whose bytes are not UTF-8) is answered by the server itself, before the application, without a body.";
            }
        }
        else if (badRequest is null)
        {
            operation.Responses["400"] = new OpenApiResponse { Description = ServersOwn + "a request it cannot parse (a malformed request line, a header value whose bytes are not UTF-8)." };
        }

        operation.Responses.TryAdd("414", new OpenApiResponse { Description = ServersOwn + "the request line (the URL) is longer than the server takes." });
        operation.Responses.TryAdd("431", new OpenApiResponse { Description = ServersOwn + "the request's headers are larger than the server takes." });

        // An operation that reads a body replaces this with its own 408 (a problem), which names this one too.
        operation.Responses.TryAdd("408", new OpenApiResponse { Description = ServersOwn + "the request's headers did not arrive within 30 seconds (Kestrel's RequestHeadersTimeout)." });
    }

    private const string HeadersTimeout =
        "Headers that do not arrive within 30 seconds (Kestrel's RequestHeadersTimeout) get the server's own 408 instead, before the application and without a body.";

    /// <summary>The job filters of GET /jobs (query) and POST /jobs/bulk (filter object), with their rules.</summary>
    private static IEnumerable<(string Name, (string Description, OpenApiSchema Schema))> FilterSchemas() =>
    [
        ("status", ("Only jobs in this status.", new OpenApiSchema
        {
            Type = JsonSchemaType.String,
            Enum = Enum.GetValues<JobState>().Select(s => (JsonNode)JsonValue.Create(s.ToApiStatus())!).ToList(),
        })),
        ("type", ("Only jobs of this type.", new OpenApiSchema { Type = JsonSchemaType.String, Pattern = JobTypePattern, MaxLength = JobType.MaxLength })),
        ("queue", ("Only jobs in this queue.", new OpenApiSchema { Type = JsonSchemaType.String, Pattern = QueueNamePattern })),
        ("error", ("Only jobs whose last error's message contains this text (ASCII letters compared without case). No index answers it: combine it with status. Control characters are refused.", new OpenApiSchema { Type = JsonSchemaType.String, MinLength = 1, MaxLength = JobQuery.MaxErrorFilterLength, Pattern = "^[^\\u0000-\\u001f\\u007f]*$" })),
        ("created_after", ("Only jobs created at or after this RFC 3339 instant.", new OpenApiSchema { Type = JsonSchemaType.String, Format = "date-time" })),
        ("created_before", ("Only jobs created before this RFC 3339 instant (after created_after).", new OpenApiSchema { Type = JsonSchemaType.String, Format = "date-time" })),
        ("batch_id", ("Only the jobs of this batch or workflow (its members; not its callbacks).", new OpenApiSchema { Type = JsonSchemaType.String, Pattern = BatchIdPattern })),
        ("tenant", ("Admin keys: another tenant's jobs, or '*' for every tenant's. A tenant key may name only its own tenant (403 otherwise). The key's tenant when absent.", new OpenApiSchema { Type = JsonSchemaType.String, Pattern = TenantOrEveryPattern })),
    ];

    private static OpenApiSchema BulkSchema()
    {
        var filter = new OpenApiSchema
        {
            Type = JsonSchemaType.Object,
            AdditionalPropertiesAllowed = false,
            Description = "Act on the jobs that match, newest first, a batch of limit per call. Each filter may be null (no filter).",
            Properties = FilterSchemas().ToDictionary(
                f => f.Name,
                f => (IOpenApiSchema)new OpenApiSchema
                {
                    Type = f.Item2.Schema.Type | JsonSchemaType.Null,
                    Enum = f.Item2.Schema.Enum is { } values ? [.. values, null!] : null,
                    Pattern = f.Item2.Schema.Pattern,
                    Format = f.Item2.Schema.Format,
                    MinLength = f.Item2.Schema.MinLength,
                    MaxLength = f.Item2.Schema.MaxLength,
                    Description = f.Item2.Description,
                }),
        };
        // The two forms as the branches of oneOf, each closed: with ids a top-level tenant and no cursor or limit; with a
        // filter a cursor and a limit and no top-level tenant (the filter has its own).
        var action = Enumeration(BulkJobsRequestParser.Actions, "retry (FAILED, CANCELLED, SCHEDULED, RETRYING run again now), cancel (SCHEDULED, QUEUED, RETRYING cancelled; RUNNING asked to stop) or delete (all but RUNNING). Other jobs are skipped.");
        var byIds = new OpenApiSchema
        {
            Type = JsonSchemaType.Object,
            Required = new HashSet<string> { "action", "ids" },
            AdditionalPropertiesAllowed = false,
            Description = "The jobs named by id, in one call.",
            Properties = new Dictionary<string, IOpenApiSchema>
            {
                ["action"] = action,
                ["ids"] = new OpenApiSchema
                {
                    Type = JsonSchemaType.Array,
                    MinItems = 1,
                    MaxItems = BulkJobsRequestParser.MaxJobs,
                    Items = new OpenApiSchema { Type = JsonSchemaType.String, Pattern = JobIdPattern },
                    Description = "The jobs to act on, in one call. Not with filter.",
                },
                ["tenant"] = new OpenApiSchema { Type = JsonSchemaType.String, Pattern = TenantOrEveryPattern, Description = "Admin keys: the tenant of the ids, or '*' for any; the key's tenant when absent." },
            },
        };
        var byFilter = new OpenApiSchema
        {
            Type = JsonSchemaType.Object,
            Required = new HashSet<string> { "action", "filter" },
            AdditionalPropertiesAllowed = false,
            Description = "The jobs a filter matches, a batch of limit per call.",
            Properties = new Dictionary<string, IOpenApiSchema>
            {
                ["action"] = action,
                ["filter"] = filter,
                ["cursor"] = new OpenApiSchema { Type = JsonSchemaType.String | JsonSchemaType.Null, Description = "Null for the first batch, then the next_cursor of the previous call." },
                ["limit"] = new OpenApiSchema
                {
                    Type = JsonSchemaType.Integer,
                    Minimum = "1",
                    Maximum = BulkJobsRequestParser.MaxJobs.ToString(CultureInfo.InvariantCulture),
                    Description = $"The most jobs this call handles; {BulkJobsRequestParser.DefaultLimit} when absent.",
                },
            },
        };
        return new OpenApiSchema
        {
            Type = JsonSchemaType.Object,
            Required = new HashSet<string> { "action" },
            OneOf = [OptionalNullable(byIds), OptionalNullable(byFilter)],
        };
    }

    private static OpenApiSchema BatchSchema(bool adding, string[]? jobTypes)
    {
        var properties = new Dictionary<string, IOpenApiSchema>
        {
            ["jobs"] = new OpenApiSchema
            {
                Type = JsonSchemaType.Array,
                MinItems = 1,
                MaxItems = WorkflowsApi.BatchRequestParser.MaxJobs,
                Items = CreateJobSchema(jobTypes),
                Description = "The batch's jobs, each as POST /jobs takes it; stored together or not at all.",
            },
        };
        if (!adding)
        {
            properties["on_success"] = Nullable(CreateJobSchema(jobTypes), "A job enqueued once every job of the batch succeeded; cancelled when one did not.");
            properties["on_complete"] = Nullable(CreateJobSchema(jobTypes), "A job enqueued once every job of the batch finished, whatever the outcomes.");
            properties["retention_seconds"] = new OpenApiSchema
            {
                Type = JsonSchemaType.Number,
                Minimum = CreateJobRequestParser.MinPositiveSeconds.ToString(CultureInfo.InvariantCulture),
                Maximum = CreateJobRequestParser.MaxSeconds.ToString(CultureInfo.InvariantCulture),
                Description = "How long the batch's record stays readable after its last job finished; 7 days when absent.",
            };
        }

        return OptionalNullable(new OpenApiSchema
        {
            Type = JsonSchemaType.Object,
            Required = new HashSet<string> { "jobs" },
            Properties = properties,
            AdditionalPropertiesAllowed = false,
        });
    }

    private static OpenApiSchema WorkflowSchema(string[]? jobTypes)
    {
        var step = OptionalNullable(new OpenApiSchema
        {
            Type = JsonSchemaType.Object,
            Required = new HashSet<string> { "name", "job" },
            AdditionalPropertiesAllowed = false,
            Properties = new Dictionary<string, IOpenApiSchema>
            {
                ["name"] = new OpenApiSchema { Type = JsonSchemaType.String, Pattern = WorkflowStepNamePattern, Description = "Unique in the workflow, e.g. extract." },
                ["job"] = CreateJobSchema(jobTypes),
                ["after"] = new OpenApiSchema
                {
                    Type = JsonSchemaType.Array | JsonSchemaType.Null,
                    MaxItems = WorkflowsApi.WorkflowRequestParser.MaxAfter,
                    Items = new OpenApiSchema { Type = JsonSchemaType.String, Pattern = WorkflowStepNamePattern },
                    Description = "The names of the steps this one runs after (no repeats, no cycles); it starts once all of them succeeded.",
                },
                [DependencyFailurePolicy.Field] = Enumeration(
                    DependencyFailurePolicy.Names,
                    "When a step it runs after did not succeed: cancel (the default) cancels this step, fail fails it (shown among failed jobs, retriable by hand), run runs it anyway. What runs after it follows its own policy. Only with a non-empty after."),
            },
            // Not with an after that is null or empty: the step then runs after nothing, and the policy would be about nothing.
            AllOf = [Needs(DependencyFailurePolicy.Field, "after", new OpenApiSchema { Type = JsonSchemaType.Array, MinItems = 1 })],
        });
        return OptionalNullable(new OpenApiSchema
        {
            Type = JsonSchemaType.Object,
            Required = new HashSet<string> { "steps" },
            AdditionalPropertiesAllowed = false,
            Properties = new Dictionary<string, IOpenApiSchema>
            {
                ["name"] = new OpenApiSchema { Type = JsonSchemaType.String | JsonSchemaType.Null, MinLength = 1, MaxLength = WorkflowsApi.WorkflowRequestParser.MaxNameLength, Pattern = NoControlCharacters, Description = "A name for people (need not be unique); no control characters." },
                ["steps"] = new OpenApiSchema
                {
                    Type = JsonSchemaType.Array,
                    MinItems = 1,
                    MaxItems = WorkflowsApi.WorkflowRequestParser.MaxSteps,
                    Items = step,
                    Description = "The steps, in any order; stored together or not at all.",
                },
                ["retention_seconds"] = new OpenApiSchema
                {
                    Type = JsonSchemaType.Number,
                    Minimum = CreateJobRequestParser.MinPositiveSeconds.ToString(CultureInfo.InvariantCulture),
                    Maximum = CreateJobRequestParser.MaxSeconds.ToString(CultureInfo.InvariantCulture),
                    Description = "How long the workflow's record stays readable after its last step finished; 7 days when absent.",
                },
            },
        });
    }

    private static OpenApiSchema Nullable(OpenApiSchema schema, string description)
    {
        schema.Type |= JsonSchemaType.Null;
        schema.Description = description;
        return schema;
    }

    /// <summary>
    /// The request body object <paramref name="schema"/> with every property it does not require nullable (an
    /// enumeration's null among its values), as the parsers read them: null for a field a body may leave out is the same
    /// as leaving it out. A property without a type (any JSON value, a payload) already takes null.
    /// </summary>
    private static OpenApiSchema OptionalNullable(OpenApiSchema schema)
    {
        foreach (var (name, property) in schema.Properties ?? new Dictionary<string, IOpenApiSchema>())
        {
            if (schema.Required?.Contains(name) != true && property is OpenApiSchema { Type: { } type } optional && (type & JsonSchemaType.Null) == 0)
            {
                optional.Type = type | JsonSchemaType.Null;
                if (optional.Enum is { Count: > 0 } values)
                {
                    optional.Enum = [.. values, null!];
                }
            }
        }

        return schema;
    }

    /// <summary>A value that is there and not null: what a field given means, when null is the field left out.</summary>
    private static OpenApiSchema NotNull() => new() { Not = new OpenApiSchema { Type = JsonSchemaType.Null } };

    /// <summary>
    /// <paramref name="field"/> given (not null) needs <paramref name="other"/> given, of <paramref name="shape"/> when one
    /// is named. dependentRequired would count a null as given, so the rule is spelt out: not the field, or the other.
    /// </summary>
    private static OpenApiSchema Needs(string field, string other, OpenApiSchema? shape = null) => new()
    {
        AnyOf =
        [
            new OpenApiSchema { Not = new OpenApiSchema { Required = new HashSet<string> { field }, Properties = new Dictionary<string, IOpenApiSchema> { [field] = NotNull() } } },
            new OpenApiSchema { Required = new HashSet<string> { other }, Properties = new Dictionary<string, IOpenApiSchema> { [other] = shape ?? NotNull() } },
        ],
    };

    /// <summary>
    /// A job as <c>POST /jobs</c> takes it; its type one of <paramref name="jobTypes"/> (the server's, when it knows
    /// them: a type without a handler is a 400). With <paramref name="continuation"/> (the <c>POST /jobs</c> body, not a
    /// job of a batch or workflow) it may wait for existing jobs.
    /// </summary>
    private static OpenApiSchema CreateJobSchema(string[]? jobTypes, bool continuation = false)
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
            ["type"] = JobTypeSchema("The job type, {domain}:{action}, one this server accepts (e.g. note:archive).", jobTypes),
            ["payload"] = new OpenApiSchema { Description = "Any JSON value nested at most 63 levels of arrays and objects deep (deeper is a 400 that says so); {} when absent or null. For a job type whose handler runs in this server it must fit the handler's payload record: a property the record does not have is refused." },
            ["queue"] = new OpenApiSchema { Type = JsonSchemaType.String, Pattern = PathSegment(QueueNamePattern), Description = "The queue; 'default' when absent." },
            ["max_retry"] = new OpenApiSchema { Type = JsonSchemaType.Integer, Minimum = "0", Maximum = CreateJobRequestParser.MaxRetryLimit.ToString(CultureInfo.InvariantCulture), Description = "Retries after the first attempt; Conveyor:DefaultMaxRetry when absent." },
            ["timeout_seconds"] = Seconds("Longest one attempt may run.", CreateJobRequestParser.MinPositiveSeconds),
            ["deadline"] = Timestamp("RFC 3339; the job must not run after it. Must be in the future."),
            ["process_at"] = Timestamp("RFC 3339; run no earlier. Not with process_in_seconds; not after the deadline."),
            ["process_in_seconds"] = Seconds("Run no earlier than this long from now. Not with process_at.", 0),
            ["unique_key"] = new OpenApiSchema { Type = JsonSchemaType.String, MinLength = 1, MaxLength = CreateJobRequestParser.MaxUniqueKeyLength, Pattern = "^[^\\u0000]*$", Description = "While an unfinished job of the tenant holds the key, another create with it is a 409. Needs unique_for_seconds. Any characters but U+0000." },
            ["unique_for_seconds"] = Seconds("How long unique_key holds. Needs unique_key.", CreateJobRequestParser.MinPositiveSeconds),
            ["retention_seconds"] = Seconds("How long the finished job is kept; Conveyor:DefaultRetention when absent.", 0),
        };
        List<IOpenApiSchema> pairs = [Needs("unique_key", "unique_for_seconds"), Needs("unique_for_seconds", "unique_key")];
        if (continuation)
        {
            properties[JobDependenciesParser.Field] = new OpenApiSchema
            {
                Type = JsonSchemaType.Array,
                MaxItems = JobDependenciesParser.MaxAfter,
                UniqueItems = true,
                Items = new OpenApiSchema { Type = JsonSchemaType.String, Pattern = JobIdPattern },
                Description = "Ids of this tenant's jobs the job waits for (no repeats; empty: none): it is WAITING until the last of them finishes, then runs, or not, as on_dependency_failure says. A job that already finished counts at once. An id the tenant has no job with is a 400 naming it, another tenant's job too; nothing is stored.",
            };
            properties[DependencyFailurePolicy.Field] = Enumeration(
                DependencyFailurePolicy.Names,
                "With after, when a job it waits for did not succeed (failed, cancelled or deleted): cancel (the default) cancels this job, fail fails it (shown among failed jobs, retriable by hand), run runs it anyway.");
            // Not with an after that is null or empty, as for a workflow step: the policy would be about nothing.
            pairs.Add(Needs(DependencyFailurePolicy.Field, JobDependenciesParser.Field, new OpenApiSchema { Type = JsonSchemaType.Array, MinItems = 1 }));
        }

        return OptionalNullable(new OpenApiSchema
        {
            Type = JsonSchemaType.Object,
            Required = new HashSet<string> { "type" },
            Properties = properties,
            AdditionalPropertiesAllowed = false,
            AllOf = pairs,
            // Not both; "type" keeps null (a batch's on_complete: null) from matching the inner schema.
            Not = new OpenApiSchema
            {
                Type = JsonSchemaType.Object,
                Required = new HashSet<string> { "process_at", "process_in_seconds" },
                Properties = new Dictionary<string, IOpenApiSchema> { ["process_at"] = NotNull(), ["process_in_seconds"] = NotNull() },
            },
        });
    }

    private static OpenApiSchema ScheduleSchema(bool creating, string[]? jobTypes)
    {
        var properties = new Dictionary<string, IOpenApiSchema>
        {
            ["name"] = new OpenApiSchema { Type = JsonSchemaType.String, Pattern = PathSegment(ScheduleNamePattern), Description = "Unique in the tenant, e.g. report:nightly." },
            ["cron"] = new OpenApiSchema { Type = JsonSchemaType.String, MinLength = 1, MaxLength = ScheduleRequestParser.MaxCronLength, Pattern = NoControlCharacters, Description = "5 fields (minute hour day-of-month month day-of-week), 6 (seconds first) or a macro: @yearly, @monthly, @weekly, @daily, @hourly, @every_minute, @every_second." },
            ["time_zone"] = new OpenApiSchema { Type = JsonSchemaType.String, Pattern = ScheduleRequestParser.TimeZonePattern, Description = "The IANA time zone the expression is read in (Europe/Berlin); UTC when absent. A zone of the host's list in another letter case is stored as the time zone database spells it (utc becomes UTC); a link such as US/Eastern only as spelled." },
            ["job_type"] = JobTypeSchema("The job type every tick enqueues; one this server runs.", jobTypes),
            ["payload"] = new OpenApiSchema { Description = "The payload of every tick's job: any JSON value nested at most 63 levels deep ({} when absent or null); checked against the handler's payload record like POST /jobs." },
            ["queue"] = new OpenApiSchema { Type = JsonSchemaType.String | JsonSchemaType.Null, Pattern = PathSegment(QueueNamePattern), Description = "The queue of every tick's job; 'default' when absent." },
            ["max_retry"] = new OpenApiSchema { Type = JsonSchemaType.Integer | JsonSchemaType.Null, Minimum = "0", Maximum = CreateJobRequestParser.MaxRetryLimit.ToString(CultureInfo.InvariantCulture), Description = "Retries of every tick's job; Conveyor:DefaultMaxRetry when absent." },
            ["timeout_seconds"] = new OpenApiSchema
            {
                Type = JsonSchemaType.Number | JsonSchemaType.Null,
                Minimum = CreateJobRequestParser.MinPositiveSeconds.ToString(CultureInfo.InvariantCulture),
                Maximum = CreateJobRequestParser.MaxSeconds.ToString(CultureInfo.InvariantCulture),
                Description = "Longest one attempt of a tick's job may run; no limit when absent.",
            },
            ["misfire"] = Enumeration(SchedulePolicyNames.Misfires, "Ticks missed while no server ran: once (one catch-up run, the default), skip, or all (bounded)."),
            ["overlap"] = Enumeration(SchedulePolicyNames.Overlaps, "At a tick while the previous tick's job is unfinished: allow (the default) or skip_while_unfinished."),
            ["paused"] = new OpenApiSchema { Type = JsonSchemaType.Boolean, Description = "Create the schedule paused; a replace keeps the pause state (use pause and resume)." },
        };
        return OptionalNullable(new OpenApiSchema
        {
            Type = JsonSchemaType.Object,
            Required = creating ? new HashSet<string> { "name", "cron", "job_type" } : new HashSet<string> { "cron", "job_type" },
            Properties = properties,
            AdditionalPropertiesAllowed = false,
        });
    }

    /// <summary>
    /// The body of PUT /limits/{kind}/{name}: one closed branch of oneOf per kind, so that a body is valid only with the
    /// fields its kind requires (max, or limit and period_seconds) and none of the other kind's.
    /// </summary>
    private static OpenApiSchema LimitSchema()
    {
        static Dictionary<string, IOpenApiSchema> Common() => new()
        {
            ["queue"] = new OpenApiSchema { Type = JsonSchemaType.String, Pattern = PathSegment(QueueNamePattern), Description = "The queue whose jobs the limit counts." },
            ["job_type"] = new OpenApiSchema { Type = JsonSchemaType.String | JsonSchemaType.Null, Pattern = JobTypePattern, MaxLength = JobType.MaxLength, Description = "Only the jobs of this type; every job of the queue when absent or null." },
            ["partition"] = Enumeration(LimitsApi.LimitResponseMapper.Partitions, "none (the default): one count for every job the limit matches; tenant: one count per tenant."),
        };
        var concurrency = new OpenApiSchema
        {
            Type = JsonSchemaType.Object,
            Description = "For kind concurrency.",
            Required = new HashSet<string> { "queue", "max" },
            Properties = Common(),
            AdditionalPropertiesAllowed = false,
        };
        concurrency.Properties["max"] = new OpenApiSchema { Type = JsonSchemaType.Integer, Minimum = "1", Maximum = ConcurrencyLimit.MaxValue.ToString(CultureInfo.InvariantCulture), Description = "The jobs running at once." };
        var rate = new OpenApiSchema
        {
            Type = JsonSchemaType.Object,
            Description = "For kind rate.",
            Required = new HashSet<string> { "queue", "limit", "period_seconds" },
            Properties = Common(),
            AdditionalPropertiesAllowed = false,
        };
        rate.Properties["limit"] = new OpenApiSchema { Type = JsonSchemaType.Integer, Minimum = "1", Maximum = RateLimit.MaxLimit.ToString(CultureInfo.InvariantCulture), Description = "The jobs started per period_seconds." };
        rate.Properties["period_seconds"] = new OpenApiSchema
        {
            Type = JsonSchemaType.Number,
            Minimum = LimitsApi.LimitRequestParser.MinPeriodSeconds.ToString(CultureInfo.InvariantCulture),
            Maximum = LimitsApi.LimitRequestParser.MaxPeriodSeconds.ToString(CultureInfo.InvariantCulture),
            Description = "The period limit counts over, in seconds.",
        };
        rate.Properties["burst"] = new OpenApiSchema { Type = JsonSchemaType.Integer, Minimum = "1", Maximum = RateLimit.MaxLimit.ToString(CultureInfo.InvariantCulture), Description = "The starts allowed at once after a quiet period, at most limit; 1 when absent." };
        return new OpenApiSchema
        {
            Type = JsonSchemaType.Object,
            Required = new HashSet<string> { "queue" },
            OneOf = [OptionalNullable(concurrency), OptionalNullable(rate)],
        };
    }

    /// <summary>A job type to create a job of: with <paramref name="jobTypes"/> (the types this server accepts) an enum of them.</summary>
    private static OpenApiSchema JobTypeSchema(string description, string[]? jobTypes) => new()
    {
        Type = JsonSchemaType.String,
        Pattern = JobTypePattern,
        MaxLength = JobType.MaxLength,
        Enum = jobTypes?.Select(t => (JsonNode)JsonValue.Create(t)!).ToList(),
        Description = description,
    };

    /// <summary>The types whose <c>status</c> (or <c>last_job_status</c>) is a job's, as <c>GET /jobs/{id}</c> shows it.</summary>
    private static readonly HashSet<Type> JobStatusTypes =
    [
        typeof(JobResponse), typeof(JobCreatedResponse), typeof(WorkflowsApi.Contracts.WorkflowAddedJobResponse),
        typeof(WorkflowsApi.Contracts.WorkflowStepResponse), typeof(SchedulesApi.Contracts.ScheduleResponse),
    ];

    /// <summary>
    /// Declares what the API writes and the generator cannot know from a string property: every <c>*_at</c> and
    /// <c>deadline</c> is an RFC 3339 date-time (<see cref="JobsApi.Rfc3339.Format(DateTimeOffset)"/>), and a job's status
    /// is one of the statuses (null kept where the property may be null), so that a client or a checker of the answers
    /// can rely on both.
    /// </summary>
    private static void DeclareTimestampsAndJobStatuses(Type type, IDictionary<string, IOpenApiSchema> properties)
    {
        foreach (var (name, property) in properties)
        {
            if (property is OpenApiSchema { Type: { } kind, Format: null } timestamp && (kind & JsonSchemaType.String) != 0
                && (name.EndsWith("_at", StringComparison.Ordinal) || name == "deadline"))
            {
                timestamp.Format = "date-time";
            }

            if (JobStatusTypes.Contains(type) && name is "status" or "last_job_status" && property is OpenApiSchema { Type: { } statusKind } status
                && (statusKind & JsonSchemaType.String) != 0)
            {
                var statuses = Enum.GetValues<JobState>().Select(static s => (JsonNode)JsonValue.Create(s.ToApiStatus())!).ToList();
                status.Enum = (statusKind & JsonSchemaType.Null) != 0 ? [.. statuses, null!] : statuses;
            }
        }
    }

    private static OpenApiSchema Enumeration(IEnumerable<string> values, string description) => new()
    {
        Type = JsonSchemaType.String,
        Enum = values.Select(v => (JsonNode)JsonValue.Create(v)!).ToList(),
        Description = description,
    };

    private static void AddQuery(OpenApiOperation operation, string name, string description, OpenApiSchema schema) =>
        operation.Parameters!.Add(new OpenApiParameter { Name = name, In = ParameterLocation.Query, Description = description, Schema = schema });

    /// <summary>The 403 of <see cref="CrossOriginEndpointFilter"/>, which every state-changing operation may answer.</summary>
    private static void DescribeCrossOriginRefusal(OpenApiOperation operation)
    {
        const string CrossOrigin = "A browser's request for a page of another origin (Sec-Fetch-Site other than same-origin or none; without it, an Origin other than the request's Host) is refused; a client that is not a browser sends neither header.";
        operation.Responses ??= [];
        if (operation.Responses.TryGetValue("403", out var forbidden) && forbidden is OpenApiResponse concrete)
        {
            concrete.Description = (string.IsNullOrEmpty(concrete.Description) || concrete.Description == "Forbidden" ? "Forbidden." : concrete.Description) + " " + CrossOrigin;
        }
        else if (forbidden is null)
        {
            var problem = operation.Responses.TryGetValue("401", out var unauthorized) && unauthorized is OpenApiResponse { Content: { } content }
                ? new Dictionary<string, OpenApiMediaType>(content)
                : null;
            operation.Responses["403"] = new OpenApiResponse { Description = "Forbidden: " + CrossOrigin, Content = problem };
        }
    }

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
