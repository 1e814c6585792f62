using System.ComponentModel.DataAnnotations;
using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Microsoft.Extensions.Options;

namespace Conveyor;

/// <summary>
/// Turns payloads and results into JSON and back with System.Text.Json. The settings come from
/// <see cref="ConveyorJsonOptions"/>; source-generated contexts added there are used first, so payload types
/// can be serialised without reflection. With none added, payloads go through System.Text.Json's reflection-based
/// resolver, which trimmed and Native AOT applications do not have: there a context is required, and its absence
/// stops the start with a message saying how to add one.
/// </summary>
internal sealed class JobPayloadSerializer
{
    private readonly JsonSerializerOptions _options;

    public JobPayloadSerializer(IOptions<ConveyorJsonOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value.SerializerOptions;
        if (!_options.IsReadOnly && _options.TypeInfoResolver is null)
        {
            _options.TypeInfoResolver = ReflectionResolver();
        }

        _options.MakeReadOnly();
    }

    /// <summary>The settings in use, with a resolver: for what reads JSON by type beside payloads (steps, signals).</summary>
    public JsonSerializerOptions Options => _options;

    // JsonSerializer.IsReflectionEnabledByDefault is false in trimmed and Native AOT applications (a feature switch the
    // compiler folds), and the reflection resolver is then trimmed away with the branch that creates it.
    [UnconditionalSuppressMessage("Trimming", "IL2026", Justification = "Only reached where reflection-based serialisation is enabled (not trimmed).")]
    [UnconditionalSuppressMessage("AOT", "IL3050", Justification = "Only reached where reflection-based serialisation is enabled (not Native AOT).")]
    private static IJsonTypeInfoResolver ReflectionResolver() => JsonSerializer.IsReflectionEnabledByDefault
        ? new DefaultJsonTypeInfoResolver()
        : throw new InvalidOperationException(
            "Job payloads and results need a source-generated JsonSerializerContext in a trimmed or Native AOT application: " +
            "declare one for your payload types ([JsonSerializable(typeof(MyPayload))] partial class MyJsonContext : JsonSerializerContext) " +
            "and add it with builder.ConfigureJson(o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, MyJsonContext.Default)).");

    public byte[] Serialize<T>(T value) => JsonSerializer.SerializeToUtf8Bytes(value, (JsonTypeInfo<T>)_options.GetTypeInfo(typeof(T)));

    public byte[] Serialize(object? value, Type type) => JsonSerializer.SerializeToUtf8Bytes(value, _options.GetTypeInfo(type));

    public T? Deserialize<T>(ReadOnlyMemory<byte> json) => JsonSerializer.Deserialize(json.Span, (JsonTypeInfo<T>)_options.GetTypeInfo(typeof(T)));

    /// <summary>
    /// Where and why <paramref name="json"/> would not deserialise into <typeparamref name="T"/>, or null. Stricter than
    /// <see cref="Deserialize{T}"/>: a property <typeparamref name="T"/> does not have is refused, not dropped.
    /// </summary>
    internal JobPayloadProblem? Validate<T>(ReadOnlyMemory<byte> json, IServiceProvider? services = null)
    {
        var typeInfo = (JsonTypeInfo<T>)StrictOptions.GetTypeInfo(typeof(T));
        T? payload;
        try
        {
            payload = JsonSerializer.Deserialize(json.Span, typeInfo);
        }
        catch (JsonException e)
        {
            return new JobPayloadProblem(e.Path ?? "$", Describe(e, typeInfo));
        }
        catch (Exception e) when (e is NotSupportedException or ArgumentException or InvalidOperationException)
        {
            return new JobPayloadProblem("$", $"does not fit {typeof(T).Name}: {e.Message}");
        }

        // The record's own rules run outside the catch: what they throw is their defect, not the payload's.
        return payload switch
        {
            null => new JobPayloadProblem("$", $"must be a JSON object for {typeof(T).Name}; it is null."),
            IValidatableObject validatable => Refusal(validatable, typeInfo, services),
            _ => null,
        };
    }

    /// <summary>
    /// Why <paramref name="e"/>, thrown deserialising a payload into <typeparamref name="T"/>, was thrown, in the terms
    /// the enqueue's check uses (<c>$.count: must be a whole number … (Typed declares it as int).</c>): for the error
    /// of a job whose payload a worker could not read.
    /// </summary>
    internal string Explain<T>(JsonException e) => $"{e.Path ?? "$"}: {Describe(e, _options.GetTypeInfo(typeof(T)))}";

    /// <summary>
    /// The first rule a payload record's own <see cref="IValidatableObject.Validate"/> finds broken (a range, a pair of
    /// fields that go together), at the place of the first member it names (<c>$.rows</c>), or null.
    /// </summary>
    private static JobPayloadProblem? Refusal(IValidatableObject payload, JsonTypeInfo typeInfo, IServiceProvider? services)
    {
        // The application's services, for rules that need one (validationContext.GetService): the root provider.
        var context = new ValidationContext(payload, typeInfo.Type.Name, services, items: null);
        if (payload.Validate(context).FirstOrDefault(static r => r != ValidationResult.Success) is not { } broken)
        {
            return null;
        }

        var member = broken.MemberNames.FirstOrDefault();
        var property = member is null ? null : typeInfo.Properties.FirstOrDefault(p => (p.AttributeProvider as MemberInfo)?.Name == member)?.Name ?? member;
        return new JobPayloadProblem(property is null ? "$" : "$." + property, broken.ErrorMessage ?? $"does not satisfy {typeInfo.Type.Name}'s rules.");
    }

    // Payloads checked at enqueue refuse unknown properties (a misspelt name would otherwise be dropped in silence and
    // the handler would see a default); a type can opt out with [JsonUnmappedMemberHandling(Skip)].
    private JsonSerializerOptions StrictOptions => field ??= new JsonSerializerOptions(_options) { UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow };

    private static string Describe(JsonException e, JsonTypeInfo typeInfo)
    {
        var typeName = typeInfo.Type.Name;
        var path = e.Path ?? "$";
        // A property of the payload type itself ("$.note_id") gets a message in the API's terms; deeper places keep
        // System.Text.Json's own, without its position suffix.
        var property = path.StartsWith("$.", StringComparison.Ordinal) && path.IndexOfAny(['.', '['], 2) < 0 ? path[2..] : null;
        var known = typeInfo.Kind == JsonTypeInfoKind.Object ? string.Join(", ", typeInfo.Properties.Select(p => p.Name)) : "";
        if (e.Message.Contains("could not be mapped", StringComparison.Ordinal))
        {
            return property is not null
                ? $"is not a property of {typeName}, which has: {known} (a property the payload type does not have is refused, not dropped)."
                : "is not a property of the type expected here (a property the payload type does not have is refused, not dropped).";
        }

        if (path == "$" && e.Message.Contains("could not be converted", StringComparison.Ordinal))
        {
            return $"must be {Expected(typeInfo.Type)} for {typeName}.";
        }

        // Only System.Text.Json's own "could not be converted": a converter of the application's that refuses a value
        // says why in its own words, which are kept.
        if (property is not null && e.Message.Contains("could not be converted", StringComparison.Ordinal)
            && typeInfo.Properties.FirstOrDefault(p => p.Name == property) is { } declared)
        {
            return $"must be {Expected(declared.PropertyType)} ({typeName} declares it as {Declared(declared.PropertyType)}).";
        }

        var message = e.Message;
        var cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        return (cut > 0 ? message[..cut] : message).Trim();
    }

    private static string Expected(Type type)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        return Type.GetTypeCode(type) switch
        {
            TypeCode.Boolean => "true or false",
            TypeCode.String or TypeCode.Char or TypeCode.DateTime => "a string",
            TypeCode.Object when type == typeof(DateTimeOffset) || type == typeof(Guid) || type == typeof(TimeSpan) => "a string",
            TypeCode.Object when typeof(System.Collections.IDictionary).IsAssignableFrom(type) => "a JSON object",
            TypeCode.Object when typeof(System.Collections.IEnumerable).IsAssignableFrom(type) => "an array",
            TypeCode.Object => "a JSON object",
            _ when type.IsEnum => "a string or a number",
            TypeCode.SByte => "a whole number from -128 to 127",
            TypeCode.Byte => "a whole number from 0 to 255",
            TypeCode.Int16 => "a whole number from -32768 to 32767",
            TypeCode.UInt16 => "a whole number from 0 to 65535",
            TypeCode.Int32 => "a whole number from -2147483648 to 2147483647",
            TypeCode.UInt32 => "a whole number from 0 to 4294967295",
            TypeCode.Int64 => "a whole number from -9223372036854775808 to 9223372036854775807",
            TypeCode.UInt64 => "a whole number from 0 to 18446744073709551615",
            _ => "a number",
        };
    }

    /// <summary>A property's type as its C# declaration reads (<c>int?</c>, <c>List&lt;string&gt;</c>), not the CLR's <c>Nullable`1</c>.</summary>
    private static string Declared(Type type)
    {
        if (Nullable.GetUnderlyingType(type) is { } inner)
        {
            return Declared(inner) + "?";
        }

        if (type.IsArray)
        {
            return Declared(type.GetElementType()!) + "[]";
        }

        if (type.IsGenericType)
        {
            // A nested type of a generic one (List<int>.Enumerator) is generic without a `n of its own.
            var name = type.Name;
            var tick = name.IndexOf('`', StringComparison.Ordinal);
            return string.Concat(tick < 0 ? name : name[..tick], "<", string.Join(", ", type.GetGenericArguments().Select(Declared)), ">");
        }

        return type.IsEnum ? type.Name : Type.GetTypeCode(type) switch
        {
            TypeCode.Boolean => "bool",
            TypeCode.Char => "char",
            TypeCode.SByte => "sbyte",
            TypeCode.Byte => "byte",
            TypeCode.Int16 => "short",
            TypeCode.UInt16 => "ushort",
            TypeCode.Int32 => "int",
            TypeCode.UInt32 => "uint",
            TypeCode.Int64 => "long",
            TypeCode.UInt64 => "ulong",
            TypeCode.Single => "float",
            TypeCode.Double => "double",
            TypeCode.Decimal => "decimal",
            TypeCode.String => "string",
            _ => type.Name,
        };
    }
}
