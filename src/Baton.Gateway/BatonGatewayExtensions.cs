using Baton.Auth;
using Baton.Batching;
using Baton.Batching.Jobs;
using Baton.Configuration;
using Baton.Engine;
using Baton.Errors;
using Baton.Gateway.Endpoints;
using Baton.Hosting;
using Baton.Gateway.Fronts.Responses;
using Baton.Responses;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Scalar.AspNetCore;

namespace Baton.Gateway;

/// <summary>Maps Baton's HTTP API into an ASP.NET Core application, the way YARP maps a reverse proxy.</summary>
public static class BatonGatewayExtensions
{
    /// <summary>
    /// Registers what the gateway's endpoints need besides Baton itself (call <c>AddBaton</c> too), including the
    /// store of batch jobs (<c>batch.jobsDatabase</c>) and the background service that runs and resumes them.
    /// </summary>
    public static IServiceCollection AddBatonGateway(this IServiceCollection services)
    {
        // The pipeline endpoints run pipelines, and the built-in configuration runs on the in-process simulator.
        services.AddBatonPipelines();
        services.AddBatonSimulator();
        services.AddSingleton<GatewayStartTime>();
        services.TryAddSingleton(sp => new Monitoring.RequestRecorder(sp.GetRequiredService<TimeProvider>()));
        services.AddHostedService<Hosting.LedgerFlushService>();
        services.AddHostedService<Hosting.LedgerRetentionService>();
        services.AddHostedService<Hosting.CacheFlushService>();
        // A shared store registered before (PostgreSQL) keeps the batches of every gateway; otherwise this gateway's file.
        services.TryAddSingleton<IBatchJobStore>(sp => new BatchJobStore(sp.GetRequiredService<BatonOptions>().Batch.JobsDatabase));
        services.AddSingleton<BatchJobQueue>();
        services.AddSingleton(sp => new BatchJobRunner(
            sp.GetRequiredService<IBatchJobStore>(), sp.GetRequiredService<BatchJobQueue>(), sp.GetRequiredService<BatchExecutor>(),
            sp.GetRequiredService<ILogger<BatchJobRunner>>(), sp.GetService<IKeyStore>(),
            sp.GetRequiredService<BatonOptions>().Batch.LeaseSeconds is { } lease ? TimeSpan.FromSeconds(lease) : null));
        services.AddHostedService<Hosting.BatchJobService>();
        services.AddBatonResponses();
        services.AddHostedService<Fronts.Responses.ResponseRetentionService>();
        services.AddOpenApi(options =>
        {
            // HEAD is answered wherever GET is (see GatewayConventions); the document lists each operation once.
            var include = options.ShouldInclude;
            options.ShouldInclude = description => !HttpMethods.IsHead(description.HttpMethod ?? "") && include(description);
        });
        services.AddCors();
        return services;
    }

    /// <summary>
    /// Adds what guards the gateway before its endpoints run, in front of <see cref="MapBaton"/>: errors that the
    /// server or routing answer without a body (404, 405, 415, ...) get OpenAI's error shape; a request arriving on a
    /// loopback address must name a loopback host or one of <c>gateway.allowedHosts</c> (421 otherwise, against DNS
    /// rebinding); and CORS answers the origins of <c>gateway.cors.allowedOrigins</c>, when there are any.
    /// <c>baton serve</c> calls it; an application that maps Baton into its own pipeline calls it before
    /// <c>MapBaton()</c> for the same protection (the error bodies then cover its own routes too).
    /// </summary>
    public static IApplicationBuilder UseBaton(this IApplicationBuilder app)
    {
        var gateway = app.ApplicationServices.GetRequiredService<BatonOptions>().Gateway;
        // Skipped for the model endpoints, which write every error's body themselves: the middleware would cost each
        // of their requests a state machine and a feature only to look at a response that already has one.
        app.UseWhen(static http => http.GetEndpoint()?.Metadata.GetMetadata<WritesErrorBodies>() is null,
            branch => branch.UseStatusCodePages(context => ErrorResponses.WriteStatusPageAsync(context.HttpContext)));
        var hosts = new Security.LoopbackHostFilter(gateway);
        app.Use(hosts.InvokeAsync);
        if (gateway.Cors.AllowedOrigins.Count > 0)
        {
            app.UseCors(policy => Security.GatewayCors.Configure(policy, gateway.Cors));
        }
        return app;
    }

    /// <summary>
    /// Maps the OpenAI-compatible API (<c>/v1/chat/completions</c>, <c>/v1/embeddings</c>, the Responses API <c>/v1/responses</c>, <c>/v1/models</c>, the Files and Batches APIs
    /// <c>/v1/files</c> and <c>/v1/batches</c>), Anthropic's Messages API (<c>/v1/messages</c>, <c>/v1/messages/count_tokens</c>), <c>/health</c>,
    /// <c>/health/providers</c>, the admin API (<c>/admin/keys</c>, and <c>/admin/stats</c>, <c>/admin/requests</c>,
    /// <c>/admin/deployments</c>, <c>/admin/budgets</c>, <c>/admin/cache</c>, <c>/admin/batches</c> behind the live
    /// dashboard at <c>/dashboard</c>), the
    /// OpenAPI document (<c>/openapi/v1.json</c>) and the interactive API reference (<c>/docs</c>, also at <c>/scalar</c>).
    /// Every <c>GET</c> also answers <c>HEAD</c>.
    /// </summary>
    public static IEndpointConventionBuilder MapBaton(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("");
        GatewayConventions.Apply(group);
        // The request's span, then the answer to escaped errors, then authentication.
        var services = new GatewayServices(endpoints.ServiceProvider);
        // The busiest endpoint runs the request filter in its handler unless an application adds filters of its own.
        var chat = new InlineRequestFilter(new GatewayRequestFilter(services),
            (http, filter) => ChatCompletionsEndpoint.HandleAsync(http, services, filter));
        group.AddEndpointFilterFactory(chat.Apply);

        // The busiest endpoint binds no service parameter: its services come from the application's, with no request scope.
        // The handler is typed Delegate so that it is not taken for a RequestDelegate, which endpoint filters do not run for.
        group.MapPost("/v1/chat/completions", (Delegate)chat.HandleAsync)
            .AddEndpointFilterFactory(chat.MarkInnermost)
            .WithMetadata(WritesErrorBodies.Instance)
            .WithName("CreateChatCompletion")
            .WithSummary("Creates a chat completion (OpenAI Chat Completions API), streamed as server-sent events when 'stream' is true.")
            .Accepts<ChatCompletionRequestSchema>("application/json")
            .Produces<ChatCompletionSchema>(StatusCodes.Status200OK, "application/json", "text/event-stream")
            .Produces<ErrorSchema>(StatusCodes.Status400BadRequest)
            .Produces<ErrorSchema>(StatusCodes.Status404NotFound)
            .Produces<ErrorSchema>(StatusCodes.Status413PayloadTooLarge)
            .Produces<ErrorSchema>(StatusCodes.Status502BadGateway);
        MapResponses(group);
        MapAnthropic(group);
        group.MapPost("/v1/embeddings", EmbeddingsEndpoint.HandleAsync)
            .WithMetadata(WritesErrorBodies.Instance)
            .WithName("CreateEmbedding")
            .WithSummary("Creates embeddings (OpenAI Embeddings API) with a model of kind 'embeddings'; vectors as floats or base64.")
            .Accepts<EmbeddingRequestSchema>("application/json")
            .Produces<EmbeddingListSchema>(StatusCodes.Status200OK, "application/json")
            .Produces<ErrorSchema>(StatusCodes.Status400BadRequest)
            .Produces<ErrorSchema>(StatusCodes.Status404NotFound)
            .Produces<ErrorSchema>(StatusCodes.Status413PayloadTooLarge)
            .Produces<ErrorSchema>(StatusCodes.Status502BadGateway);
        group.MapGet("/v1/costs", CostsEndpoint.HandleAsync)
            .WithName("GetCosts")
            .WithSummary("Cost totals and a breakdown from the ledger: ?session_id=&since=&until=&group_by=model|tier|task|key|day.")
            .Produces<CostReportView>()
            .Produces<ErrorSchema>(StatusCodes.Status400BadRequest);
        group.MapGet("/v1/models", ModelsEndpoint.Handle)
            .WithName("ListModels")
            .WithSummary("Lists the models this gateway serves.");
        group.MapGet("/health", () => new HealthStatus("ok"))
            .WithMetadata(AnonymousEndpoint.Instance)
            .WithName("Health")
            .WithSummary("Tells that the gateway is up.");
        group.MapPost("/batch", BatchEndpoint.HandleAsync)
            .WithName("ProcessBatch")
            .WithSummary("Answers up to 100 chat requests, each naming its provider and model, in request order.")
            .Accepts<BatchRequest>("application/json")
            .Produces<BatchResponse>()
            .Produces<ErrorSchema>(StatusCodes.Status422UnprocessableEntity);
        group.MapGet("/v1/pipelines", PipelineEndpoints.List)
            .WithName("ListPipelines")
            .WithSummary("Lists the pipelines this gateway runs, with their steps.");
        group.MapPost("/v1/pipelines/{name}/runs", PipelineEndpoints.RunAsync)
            .WithName("RunPipeline")
            .WithSummary("Runs a pipeline on {\"input\": {...}}: independent steps in parallel, JSON outputs checked against their schemas, every step's output and the run's metadata.")
            .Produces<Pipelines.PipelineRunResult>()
            .Produces<ErrorSchema>(StatusCodes.Status400BadRequest)
            .Produces<ErrorSchema>(StatusCodes.Status404NotFound);
        group.MapPost("/v1/files", FilesEndpoints.UploadAsync)
            .WithName("UploadFile")
            .WithSummary("Uploads a batch input file (multipart/form-data: 'file' and purpose=batch), up to batch.maxUploadBytes.")
            .Produces<FileObjectView>()
            .Produces<ErrorSchema>(StatusCodes.Status400BadRequest)
            .Produces<ErrorSchema>(StatusCodes.Status413PayloadTooLarge);
        group.MapGet("/v1/files", FilesEndpoints.ListAsync)
            .WithName("ListFiles")
            .WithSummary("Lists files, newest first: ?purpose=&limit=&after=.")
            .Produces<ListView<FileObjectView>>();
        group.MapGet("/v1/files/{fileId}", FilesEndpoints.GetAsync)
            .WithName("GetFile")
            .WithSummary("Describes a file.")
            .Produces<FileObjectView>()
            .Produces<ErrorSchema>(StatusCodes.Status404NotFound);
        group.MapGet("/v1/files/{fileId}/content", FilesEndpoints.GetContentAsync)
            .WithName("GetFileContent")
            .WithSummary("Downloads a file's content (a batch's output and error files are JSONL).")
            .Produces<ErrorSchema>(StatusCodes.Status404NotFound);
        group.MapDelete("/v1/files/{fileId}", FilesEndpoints.DeleteAsync)
            .WithName("DeleteFile")
            .WithSummary("Deletes a file.")
            .Produces<FileDeletedView>()
            .Produces<ErrorSchema>(StatusCodes.Status404NotFound);
        group.MapPost("/v1/batches", BatchesEndpoints.CreateAsync)
            .WithName("CreateBatch")
            .WithSummary("Creates a batch from an uploaded input file (endpoint /v1/chat/completions, completion_window 24h); it runs in the background.")
            .Produces<BatchObjectView>()
            .Produces<ErrorSchema>(StatusCodes.Status400BadRequest)
            .Produces<ErrorSchema>(StatusCodes.Status404NotFound);
        group.MapGet("/v1/batches", BatchesEndpoints.ListAsync)
            .WithName("ListBatches")
            .WithSummary("Lists batches, newest first: ?limit=&after=.")
            .Produces<ListView<BatchObjectView>>();
        group.MapGet("/v1/batches/{batchId}", BatchesEndpoints.GetAsync)
            .WithName("GetBatch")
            .WithSummary("Describes a batch: status, request counts, output and error files.")
            .Produces<BatchObjectView>()
            .Produces<ErrorSchema>(StatusCodes.Status404NotFound);
        group.MapPost("/v1/batches/{batchId}/cancel", BatchesEndpoints.CancelAsync)
            .WithName("CancelBatch")
            .WithSummary("Cancels a batch: the items in flight are stopped and the answers so far kept in its files.")
            .Produces<BatchObjectView>()
            .Produces<ErrorSchema>(StatusCodes.Status404NotFound)
            .Produces<ErrorSchema>(StatusCodes.Status409Conflict);
        group.MapGet("/v1/cache/stats", CacheEndpoints.Stats)
            .WithName("CacheStats")
            .WithSummary("The response cache: mode, entries, bytes, hits, misses and hit rate.");
        group.MapDelete("/v1/cache", CacheEndpoints.Purge)
            .WithMetadata(MasterKeyEndpoint.Instance)
            .WithName("PurgeCache")
            .WithSummary("Empties the response cache, or only one model's answers with ?model=NAME.");
        group.MapGet("/health/providers", ProviderHealthEndpoint.HandleAsync)
            .WithMetadata(MasterKeyEndpoint.Instance)
            .WithName("ProviderHealth")
            .WithSummary("Health of every deployment: state, circuit breaker, error rate, latency; ?probe=true checks each one actively.")
            .Produces<ProviderHealthResponse>();

        MapAdmin(group);
        Dashboard.DashboardEndpoints.Map(group);

        // The API description is in the group, so behind the same keys as the API.
        group.MapOpenApi();
        group.MapScalarApiReference("/docs", options => options.WithTitle("Baton gateway"));
        group.MapScalarApiReference(options => options.WithTitle("Baton gateway"));
        return group;
    }

    /// <summary>The OpenAI Responses API: <c>/v1/responses</c>, translated to chat completions; stored responses by id.</summary>
    private static void MapResponses(RouteGroupBuilder group)
    {
        var responses = group.MapGroup("").WithTags("Responses");
        responses.MapPost("/v1/responses", ResponsesEndpoints.CreateAsync)
            .WithMetadata(WritesErrorBodies.Instance)
            .WithName("CreateResponse")
            .WithSummary("Creates a model response (OpenAI Responses API), streamed as server-sent events when 'stream' is true; kept for previous_response_id unless 'store' is false.")
            .Produces(StatusCodes.Status200OK, contentType: "application/json", additionalContentTypes: "text/event-stream")
            .Produces<ErrorSchema>(StatusCodes.Status400BadRequest)
            .Produces<ErrorSchema>(StatusCodes.Status404NotFound)
            .Produces<ErrorSchema>(StatusCodes.Status413PayloadTooLarge)
            .Produces<ErrorSchema>(StatusCodes.Status502BadGateway);
        responses.MapGet("/v1/responses/{responseId}", ResponsesEndpoints.GetAsync)
            .WithName("GetResponse")
            .WithSummary("Reads back a stored response.")
            .Produces(StatusCodes.Status200OK, contentType: "application/json")
            .Produces<ErrorSchema>(StatusCodes.Status404NotFound);
        responses.MapDelete("/v1/responses/{responseId}", ResponsesEndpoints.DeleteAsync)
            .WithName("DeleteResponse")
            .WithSummary("Deletes a stored response.")
            .Produces<ResponseDeletedView>()
            .Produces<ErrorSchema>(StatusCodes.Status404NotFound);
        responses.MapGet("/v1/responses/{responseId}/input_items", ResponsesEndpoints.ListInputItemsAsync)
            .WithName("ListResponseInputItems")
            .WithSummary("Lists the input items of a stored response, the conversation's earlier ones included: ?limit=&order=asc|desc&after=.")
            .Produces(StatusCodes.Status200OK, contentType: "application/json")
            .Produces<ErrorSchema>(StatusCodes.Status400BadRequest)
            .Produces<ErrorSchema>(StatusCodes.Status404NotFound);
    }

    /// <summary>Anthropic's Messages API, answered (errors included) in Anthropic's shapes.</summary>
    private static void MapAnthropic(RouteGroupBuilder group)
    {
        group.MapPost("/v1/messages", Fronts.Anthropic.AnthropicMessagesEndpoint.HandleAsync)
            .WithMetadata(WritesErrorBodies.Instance)
            .WithMetadata(Fronts.Anthropic.AnthropicErrorShape.Instance)
            .WithName("CreateMessage")
            .WithSummary("Creates a message (Anthropic Messages API), streamed as Anthropic's server-sent events when 'stream' is true. Keys as 'x-api-key' or 'Authorization: Bearer'.")
            .Produces(StatusCodes.Status200OK, contentType: "application/json", additionalContentTypes: "text/event-stream")
            .Produces(StatusCodes.Status400BadRequest)
            .Produces(StatusCodes.Status404NotFound);
        group.MapPost("/v1/messages/count_tokens", Fronts.Anthropic.AnthropicCountTokensEndpoint.HandleAsync)
            .WithMetadata(Fronts.Anthropic.AnthropicErrorShape.Instance)
            .WithName("CountMessageTokens")
            .WithSummary("Counts the input tokens of a Messages request: {\"input_tokens\": N}, from an Anthropic upstream when the model routes to one, else Baton's tokenizer.")
            .Produces(StatusCodes.Status200OK)
            .Produces(StatusCodes.Status400BadRequest);
    }

    /// <summary><c>/admin/keys</c>: virtual keys, for the master key only.</summary>
    private static void MapAdmin(RouteGroupBuilder group)
    {
        var admin = group.MapGroup("/admin/keys").WithMetadata(MasterKeyEndpoint.Instance);
        admin.MapPost("", (HttpContext http, BatonOptions options, TimeProvider time) => AdminKeysEndpoints.CreateAsync(http, Keys(http), options, time))
            .WithName("CreateKey")
            .WithSummary("Creates a virtual key: {name, models, rpm, tpm, max_parallel, budget_usd, budget_period, expires_at, tags, metadata}. The secret is in this answer only.")
            .Produces<KeyView>(StatusCodes.Status201Created)
            .Produces<ErrorSchema>(StatusCodes.Status400BadRequest);
        admin.MapGet("", (HttpContext http, TimeProvider time) => AdminKeysEndpoints.ListAsync(http, Keys(http), time))
            .WithName("ListKeys")
            .WithSummary("Lists the virtual keys, revoked ones included (never their secrets).")
            .Produces<KeyListView>();
        admin.MapGet("/{keyId}", (HttpContext http, TimeProvider time, string keyId) => AdminKeysEndpoints.GetAsync(http, Keys(http), time, keyId, http.RequestServices))
            .WithName("GetKey")
            .WithSummary("Describes a virtual key, with what it has spent.")
            .Produces<KeyView>()
            .Produces<ErrorSchema>(StatusCodes.Status404NotFound);
        admin.MapPatch("/{keyId}", (HttpContext http, BatonOptions options, TimeProvider time, string keyId) => AdminKeysEndpoints.UpdateAsync(http, Keys(http), options, time, keyId))
            .WithName("UpdateKey")
            .WithSummary("Changes a virtual key's settings: the fields given replace the key's, null clears one.")
            .Produces<KeyView>()
            .Produces<ErrorSchema>(StatusCodes.Status404NotFound);
        admin.MapDelete("/{keyId}", (HttpContext http, TimeProvider time, string keyId) => AdminKeysEndpoints.RevokeAsync(http, Keys(http), time, keyId))
            .WithName("RevokeKey")
            .WithSummary("Revokes a virtual key: refused from the next request on.")
            .Produces<KeyView>()
            .Produces<ErrorSchema>(StatusCodes.Status404NotFound);
    }

    private static KeyRing Keys(HttpContext http) => http.RequestServices.GetService<KeyRing>() ?? throw new BatonException(
        StatusCodes.Status404NotFound, ErrorTypes.InvalidRequest, "Key administration needs keys: configure auth.masterKeyEnv.", code: "auth_disabled");
}
