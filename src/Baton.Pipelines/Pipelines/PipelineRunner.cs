using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Baton.Client;
using Baton.Pipelines.Caching;
using Baton.Pipelines.Outputs;
using Microsoft.Extensions.AI;

namespace Baton.Pipelines;

/// <summary>
/// Runs pipelines through an <see cref="IChatClient"/> (Baton's, so every call gets routing, limits, retries,
/// fallbacks, the response cache and cost tracking). Each step starts as soon as the steps it uses are done,
/// so independent steps overlap. A JSON step's answer is read tolerantly and checked against its schema; an
/// answer that fails is sent back once with the problems. A step whose models all fail gets its fallback
/// output, marked <c>fallback: true</c> with the error, and the run goes on.
/// </summary>
public sealed class PipelineRunner
{
    private readonly IChatClient _chat;
    private readonly TimeProvider _time;
    private readonly IPipelineResultCache? _cache;
    private readonly RequestPacer? _pacer;
    private readonly Func<string, string> _modelIdentity;

    /// <param name="chat">Where the steps' questions go.</param>
    /// <param name="time">The clock for the run's timings and the pacer.</param>
    /// <param name="cache">Keeps step results between runs; null: every run asks again (Baton's response cache still applies).</param>
    /// <param name="requestsPerMinute">At most this many calls a minute across every run of this runner; null: no pacing.</param>
    /// <param name="modelIdentity">
    /// What a configured model name stands for (its providers, endpoints and upstream models; see
    /// <see cref="PipelineModelIdentity"/>): part of each cached result's key, so that an answer from one set of
    /// deployments (the simulator, say) is never served for a model now configured elsewhere.
    /// </param>
    public PipelineRunner(IChatClient chat, TimeProvider time, IPipelineResultCache? cache = null, int? requestsPerMinute = null,
        Func<string, string>? modelIdentity = null)
    {
        _chat = chat;
        _time = time;
        _cache = cache;
        _pacer = requestsPerMinute is int rpm and > 0 ? new RequestPacer(rpm, time) : null;
        _modelIdentity = modelIdentity ?? (model => model);
    }

    /// <summary>The placeholders of the pipeline's templates that <paramref name="input"/> cannot fill, by template.</summary>
    public static IReadOnlyList<string> CheckInput(PipelineDefinition pipeline, JsonObject input)
    {
        var values = Values(input, new Dictionary<string, JsonNode?>());
        var problems = new List<string>();
        foreach (var step in pipeline.Steps)
        {
            foreach (var template in new[] { step.Prompt, step.System, step.CacheKey }.OfType<PromptTemplate>())
            {
                problems.AddRange(template.Missing(values)
                    .Where(path => !path.StartsWith("steps.", StringComparison.Ordinal))
                    .Select(path => $"steps.{step.Name}: {template.Source} uses {{{{{path}}}}}, which the input does not have."));
            }
        }
        return problems;
    }

    /// <summary>Runs the pipeline on one input.</summary>
    /// <param name="pipeline">The pipeline.</param>
    /// <param name="input">The values its templates use.</param>
    /// <param name="progress">Told as each step starts and ends.</param>
    /// <param name="caller">Options every step carries, e.g. the identity of the caller the run is for (its key's models, limits and budget apply).</param>
    /// <param name="cancellationToken">Stops the run.</param>
    /// <exception cref="PipelineInputException">The input does not fill every template; nothing was asked.</exception>
    public async Task<PipelineRunResult> RunAsync(PipelineDefinition pipeline, JsonObject input, Action<PipelineStepEvent>? progress = null,
        Requests.BatonRequestOptions? caller = null, CancellationToken cancellationToken = default)
    {
        var problems = CheckInput(pipeline, input);
        if (problems.Count > 0)
        {
            throw new PipelineInputException(problems);
        }
        var run = new Run(this, pipeline, input, progress, Guid.NewGuid().ToString("N"), _time.GetTimestamp()) { Caller = caller };
        foreach (var step in pipeline.Steps)
        {
            _ = run.Start(step, cancellationToken);
        }
        await Task.WhenAll(run.Tasks.Values).ConfigureAwait(false);

        var steps = pipeline.Steps.ToDictionary(s => s.Name, s => run.Tasks[s.Name].Result.Result, StringComparer.Ordinal);
        var metadata = new PipelineRunMetadata(
            steps.Values.Select(s => s.Model).OfType<string>().Distinct(StringComparer.Ordinal).ToList(),
            Math.Round(_time.GetElapsedTime(run.Started).TotalSeconds, 3),
            run.CacheHits,
            run.ApiCalls);
        return new PipelineRunResult(pipeline.Name, steps, metadata);
    }

    private static JsonObject Values(JsonObject input, IReadOnlyDictionary<string, JsonNode?> outputs)
    {
        var values = (JsonObject)input.DeepClone();
        var steps = new JsonObject();
        foreach (var (name, output) in outputs)
        {
            steps[name] = output?.DeepClone();
        }
        values["steps"] = steps;
        return values;
    }

    /// <summary>One run: the steps' tasks, and the counts seed 000's metadata reports.</summary>
    private sealed class Run(PipelineRunner runner, PipelineDefinition pipeline, JsonObject input, Action<PipelineStepEvent>? progress, string session, long started)
    {
        /// <summary>The options every step carries (the caller's identity), under the step's own.</summary>
        public Requests.BatonRequestOptions? Caller { get; init; }

        private int _apiCalls;
        private int _cacheHits;

        public Dictionary<string, Task<StepOutcome>> Tasks { get; } = new(StringComparer.Ordinal);

        public long Started => started;

        public int ApiCalls => _apiCalls;

        public int CacheHits => _cacheHits;

        public Task<StepOutcome> Start(PipelineStep step, CancellationToken cancellationToken)
        {
            if (!Tasks.TryGetValue(step.Name, out var task))
            {
                var needs = step.Needs.Select(name => Start(pipeline.Find(name)!, cancellationToken)).ToList();
                task = RunStepAsync(step, needs, cancellationToken);
                Tasks[step.Name] = task;
            }
            return task;
        }

        private async Task<StepOutcome> RunStepAsync(PipelineStep step, List<Task<StepOutcome>> needs, CancellationToken cancellationToken)
        {
            var done = await Task.WhenAll(needs).ConfigureAwait(false);
            if (needs.Count == 0)
            {
                // Off the caller's thread at once, so a step whose call completes synchronously (an in-process
                // model, a cache hit) does not hold up the start of the steps beside it.
                await Task.Yield();
            }
            var startedMs = Elapsed();
            progress?.Invoke(new PipelineStepEvent(step.Name, PipelineStepState.Started, null));
            var values = Values(input, done.ToDictionary(d => d.Name, d => d.Result.Output, StringComparer.Ordinal));

            PipelineStepResult result;
            IReadOnlyList<ChatMessage> messages;
            try
            {
                messages = Messages(step, values);
            }
            catch (PipelineInputException ex)
            {
                // A placeholder into a dependency's output that the output lacks (a fallback, say): this step cannot be asked.
                result = Fallback(step, string.Join(" ", ex.Errors), null, 0, false, startedMs);
                progress?.Invoke(new PipelineStepEvent(step.Name, PipelineStepState.Finished, result));
                return new StepOutcome(step.Name, result);
            }

            // A result built on a fallback is neither taken from nor put in the cache: it would outlive the failure.
            var cache = done.Any(d => d.Result.Fallback) ? null : runner._cache;
            var key = cache is null ? null : CacheKey(step, values, messages, done);
            if (cache is not null && await cache.GetAsync(key!, cancellationToken).ConfigureAwait(false) is { } cached)
            {
                Interlocked.Increment(ref _cacheHits);
                result = new PipelineStepResult(cached.Output, cached.Model, true, false, null, 0, false, cached.Coercions, startedMs, Elapsed());
            }
            else
            {
                result = await AskAsync(step, messages, startedMs, cancellationToken).ConfigureAwait(false);
                if (cache is not null && !result.Fallback)
                {
                    await cache.SetAsync(key!, new CachedStepResult(result.Output, result.Model, result.Coercions), cancellationToken).ConfigureAwait(false);
                }
            }
            progress?.Invoke(new PipelineStepEvent(step.Name, PipelineStepState.Finished, result));
            return new StepOutcome(step.Name, result);
        }

        /// <exception cref="PipelineInputException">A placeholder has no value.</exception>
        private static List<ChatMessage> Messages(PipelineStep step, JsonObject values)
        {
            var messages = new List<ChatMessage>();
            if (step.System is not null)
            {
                messages.Add(new ChatMessage(ChatRole.System, step.System.Render(values)));
            }
            var prompt = step.Prompt.Render(values);
            messages.Add(new ChatMessage(ChatRole.User, step.Output == PipelineOutputKind.Json ? prompt + "\n\n" + step.OutputReader.Instructions : prompt));
            return messages;
        }

        private async Task<PipelineStepResult> AskAsync(PipelineStep step, IReadOnlyList<ChatMessage> prompt, double startedMs, CancellationToken cancellationToken)
        {
            var reader = step.Output == PipelineOutputKind.Json ? step.OutputReader : null;
            var messages = prompt.ToList();
            var options = Options(step);
            var calls = 0;
            var reasked = false;
            string? model = null;
            try
            {
                while (true)
                {
                    calls++;
                    var response = await AskOnceAsync(messages, options, cancellationToken).ConfigureAwait(false);
                    model = response.AdditionalProperties?.GetValueOrDefault(BatonResponseProperties.UpstreamModel) as string ?? response.ModelId;
                    var text = response.Text;
                    if (reader is null)
                    {
                        return new PipelineStepResult(JsonValue.Create(text), model, false, false, null, calls, reasked, [], startedMs, Elapsed());
                    }
                    var read = reader.Read(text);
                    if (read.IsValid)
                    {
                        return new PipelineStepResult(read.Value, model, false, false, null, calls, reasked, read.Coercions, startedMs, Elapsed());
                    }
                    if (reasked)
                    {
                        return Fallback(step, $"the answer of {model} was not valid JSON for the step's schema, even when asked again: {read.Describe()}",
                            model, calls, reasked, startedMs);
                    }
                    reasked = true;
                    messages.Add(new ChatMessage(ChatRole.Assistant, text));
                    messages.Add(new ChatMessage(ChatRole.User,
                        "Your answer could not be used: " + read.Describe() + "\nAnswer again with only the corrected JSON, nothing else."));
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                return Fallback(step, ex.Message, model, calls, reasked, startedMs);
            }
        }

        private async Task<ChatResponse> AskOnceAsync(List<ChatMessage> messages, ChatOptions options, CancellationToken cancellationToken)
        {
            if (runner._pacer is not null)
            {
                await runner._pacer.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            try
            {
                var response = await runner._chat.GetResponseAsync(messages, options, cancellationToken).ConfigureAwait(false);
                if (response.AdditionalProperties?.GetValueOrDefault(BatonResponseProperties.Cached) is true)
                {
                    Interlocked.Increment(ref _cacheHits);
                }
                else
                {
                    Interlocked.Increment(ref _apiCalls);
                }
                return response;
            }
            catch
            {
                Interlocked.Increment(ref _apiCalls);
                throw;
            }
        }

        private ChatOptions Options(PipelineStep step)
        {
            var options = new ChatOptions
            {
                ModelId = step.Model ?? "auto",
                Temperature = (float?)step.Temperature,
                MaxOutputTokens = step.MaxTokens,
                AdditionalProperties = new() { [BatonRequestProperties.Session] = session },
            };
            if (Caller is not null)
            {
                options.AdditionalProperties[BatonRequestProperties.RequestOptions] = Caller;
            }
            if (step.Task is not null)
            {
                options.AdditionalProperties[BatonRequestProperties.Task] = step.Task;
            }
            if (step.Fallbacks.Count > 0)
            {
                options.AdditionalProperties[BatonRequestProperties.Fallbacks] = string.Join(',', step.Fallbacks);
            }
            if (step.Output == PipelineOutputKind.Json && step.UseResponseFormat)
            {
                options.ResponseFormat = step.Schema is { } schema
                    ? ChatResponseFormat.ForJsonSchema(schema, step.Name)
                    : ChatResponseFormat.Json;
            }
            return options;
        }

        private PipelineStepResult Fallback(PipelineStep step, string error, string? model, int calls, bool reasked, double startedMs)
        {
            JsonNode? output;
            if (step.Output == PipelineOutputKind.Json)
            {
                var fallback = step.Fallback is { } configured ? JsonNode.Parse(configured.GetRawText())!.AsObject() : [];
                fallback["fallback"] = true;
                fallback["error"] = error;
                output = fallback;
            }
            else
            {
                output = step.Fallback is { } text ? JsonNode.Parse(text.GetRawText()) : JsonValue.Create("");
            }
            return new PipelineStepResult(output, model, false, true, error, calls, reasked, [], startedMs, Elapsed());
        }

        /// <summary>
        /// What the step's result depends on: the pipeline's version; the step as declared (model or task and what
        /// the model stands for, fallbacks, parameters, schema); the messages it sends, as rendered; what its
        /// <c>cacheKey</c> renders to (e.g. the fingerprint of the files behind facts the prompt only summarises);
        /// and its dependencies' outputs.
        /// </summary>
        private string CacheKey(PipelineStep step, JsonObject values, IReadOnlyList<ChatMessage> messages, StepOutcome[] needs)
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            void Add(string? text)
            {
                hash.AppendData(Encoding.UTF8.GetBytes(text ?? "\u0000"));
                hash.AppendData([0xff]);
            }
            var invariant = System.Globalization.CultureInfo.InvariantCulture;
            Add(pipeline.Name);
            Add(pipeline.Version);
            Add(step.Name);
            Add(step.Model is null ? null : runner._modelIdentity(step.Model));
            Add(step.Task);
            Add(string.Join(",", step.Fallbacks.Select(runner._modelIdentity)));
            Add(step.Output.ToString());
            Add(step.Schema?.GetRawText());
            Add(step.UseResponseFormat ? "response_format" : "no response_format");
            Add(step.Temperature?.ToString(invariant));
            Add(step.MaxTokens?.ToString(invariant));
            foreach (var message in messages)
            {
                Add(message.Role.Value);
                Add(message.Text);
            }
            Add(step.CacheKey?.Render(values));
            foreach (var need in needs.OrderBy(n => n.Name, StringComparer.Ordinal))
            {
                Add(need.Name);
                Add(need.Result.Output?.ToJsonString());
            }
            return Convert.ToHexStringLower(hash.GetHashAndReset());
        }

        private double Elapsed() => Math.Round(runner._time.GetElapsedTime(started).TotalMilliseconds, 3);
    }

    private sealed record StepOutcome(string Name, PipelineStepResult Result);
}
