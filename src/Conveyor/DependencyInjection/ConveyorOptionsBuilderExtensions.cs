using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// Binding for Conveyor's options and those of the store packages (compiled into each package that uses it, a linked
/// source file, so it is no part of any package's public API).
/// </summary>
internal static partial class ConveyorOptionsBuilderExtensions
{
    /// <summary>
    /// Binds the options from <paramref name="sectionPath"/> of the application's <see cref="IConfiguration"/> when one
    /// is registered (any host), and leaves the defaults otherwise (a bare <see cref="ServiceCollection"/> in a test or
    /// a console tool), unlike <c>BindConfiguration</c>, which requires one. <paramref name="bind"/> is
    /// <c>static (section, options) => section.Bind(options, static b => b.ErrorOnUnknownConfiguration = true)</c>
    /// written where the options type is known, so that the configuration binder's source generator replaces it with
    /// generated code (no reflection: trimming and Native AOT keep every setting), and a key that the section's options
    /// do not have (a misspelt setting) stops the start instead of leaving the setting at its default without a word.
    /// </summary>
    /// <remarks>
    /// What the binder refuses (a value it cannot convert, a key the options do not have) stops the start as an
    /// <see cref="OptionsValidationException"/> that names the setting and what it accepts, or the nearest valid key,
    /// as the options' validators word their own failures.
    /// </remarks>
    public static OptionsBuilder<TOptions> BindFromConfigurationIfPresent<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicProperties)] TOptions>(
        this OptionsBuilder<TOptions> builder, string sectionPath, Action<IConfiguration, TOptions> bind)
        where TOptions : class
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddSingleton<IConfigureOptions<TOptions>>(sp => new ConfigureNamedOptions<TOptions>(builder.Name, options =>
        {
            if (sp.GetService<IConfiguration>() is { } configuration)
            {
                if (ShapeRefusals(configuration.GetSection(sectionPath), typeof(TOptions)).ToList() is { Count: > 0 } misshapen)
                {
                    throw new OptionsValidationException(builder.Name, typeof(TOptions), misshapen);
                }

                try
                {
                    bind(configuration.GetSection(sectionPath), options);
                }
                catch (InvalidOperationException e) when (Refusal<TOptions>(sectionPath, e.Message) is { } refusal)
                {
                    throw new OptionsValidationException(builder.Name, typeof(TOptions), [refusal]);
                }
            }
        }));
        return builder;
    }

    /// <summary>The binder's refusal in the words of a setting's message, or null for a message this does not know.</summary>
    private static string? Refusal<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicProperties)] TOptions>(string sectionPath, string message)
    {
        var settings = typeof(TOptions).GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(static p => p.GetIndexParameters().Length == 0).ToArray();
        if (UnconvertibleValue().Match(message) is { Success: true } unconvertible)
        {
            var path = unconvertible.Groups["path"].Value;
            var key = path.StartsWith(sectionPath + ":", StringComparison.OrdinalIgnoreCase) ? path[(sectionPath.Length + 1)..] : path;
            var setting = settings.FirstOrDefault(p => string.Equals(p.Name, key, StringComparison.OrdinalIgnoreCase));

            // A value of a dictionary setting (Queues:critical) is in the range its setting gives its values, if any.
            var dictionary = setting is null && key.Split(':') is [var name, _]
                ? settings.FirstOrDefault(p => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase))
                : null;
            var accepts = setting is not null
                ? SettingDescriptions.Accepts(setting.PropertyType, SettingDescriptions.RangeOf(setting))
                : AcceptsByName(unconvertible.Groups["type"].Value, dictionary is null ? null : SettingDescriptions.ValuesRangeOf(dictionary));
            return $"{path} is '{unconvertible.Groups["value"].Value}'; it accepts {accepts}.";
        }

        // The binder names the type whose key it did not know: a nested object's (Conveyor:Api:RateLimit) keeps the
        // binder's words, since this knows only the section's own keys.
        if (UnknownKeys().Match(message) is { Success: true } unknown && unknown.Groups["type"].Value == typeof(TOptions).FullName)
        {
            var valid = settings.Where(static p => p.CanWrite || typeof(System.Collections.IEnumerable).IsAssignableFrom(p.PropertyType) && p.PropertyType != typeof(string))
                .Select(static p => p.Name).Order(StringComparer.OrdinalIgnoreCase).ToArray();
            var keys = unknown.Groups["keys"].Value.Split("', '");
            return string.Join(" ", keys.Select(key => SettingDescriptions.Nearest(key, valid) is { } nearest
                ? $"unknown setting {sectionPath}:{key}; did you mean {sectionPath}:{nearest}?"
                : $"unknown setting {sectionPath}:{key}; the settings under {sectionPath} are: {string.Join(", ", valid)}."));
        }

        return null;
    }

    /// <summary>
    /// Where the configuration gives one value for what is a section of settings (<c>Conveyor:Server = fast</c>,
    /// <c>Conveyor:Server:Queues = critical</c>), or a section for what is one value (<c>Queues:default:weight</c> where
    /// a queue's weight is a number): the binder skips both without a word, and the defaults stay in force. Only
    /// Conveyor's own option types, lists and dictionaries are looked into; keys the options do not have are the
    /// binder's to refuse.
    /// </summary>
    [UnconditionalSuppressMessage("Trimming", "IL2070", Justification = "A property trimmed away is only not checked: the binder's generated code keeps every bound one.")]
    [UnconditionalSuppressMessage("Trimming", "IL2075", Justification = "As above.")]
    private static IEnumerable<string> ShapeRefusals(IConfigurationSection section, Type type)
    {
        var kind = ShapeOf(type);
        if (kind == Shape.Value)
        {
            if (section.Value is null && section.GetChildren().Any())
            {
                var keys = string.Join(", ", section.GetChildren().Select(static c => c.Key));
                yield return $"{section.Path} is a section ({keys}); it accepts {SettingDescriptions.Accepts(type, null)}, one value.";
            }

            yield break;
        }

        if (kind == Shape.Unknown)
        {
            yield break;
        }

        if (!string.IsNullOrEmpty(section.Value))
        {
            yield return kind switch
            {
                Shape.Dictionary => $"{section.Path} is '{section.Value}'; it is a section of names and their values ({section.Path}:<name>), not one value.",
                Shape.List => $"{section.Path} is '{section.Value}'; it is a list ({section.Path}:0, {section.Path}:1, …), not one value.",
                _ => $"{section.Path} is '{section.Value}'; it is a section of settings ({section.Path}:<setting>), not one value.",
            };
            yield break;
        }

        foreach (var child in section.GetChildren())
        {
            var childType = kind switch
            {
                Shape.Dictionary => type.GetGenericArguments()[1],
                Shape.List => type.IsArray ? type.GetElementType() : type.GetGenericArguments().FirstOrDefault(),
                _ => type.GetProperty(child.Key, BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase)?.PropertyType,
            };
            if (childType is not null)
            {
                foreach (var refusal in ShapeRefusals(child, childType))
                {
                    yield return refusal;
                }
            }
        }
    }

    private enum Shape
    {
        Unknown,
        Value,
        Options,
        Dictionary,
        List,
    }

    [UnconditionalSuppressMessage("Trimming", "IL2070", Justification = "Interfaces trimmed away only leave a dictionary unchecked.")]
    private static Shape ShapeOf(Type type)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        if (type.IsPrimitive || type.IsEnum || type == typeof(string) || type == typeof(decimal) || type == typeof(TimeSpan)
            || type == typeof(DateTime) || type == typeof(DateTimeOffset) || type == typeof(Guid) || type == typeof(Uri))
        {
            return Shape.Value;
        }

        if (type.IsGenericType && type.GetGenericArguments().Length == 2
            && type.GetInterfaces().Append(type).Any(static i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IDictionary<,>)))
        {
            return Shape.Dictionary;
        }

        if (type.IsArray || (type.IsGenericType && type.GetGenericArguments().Length == 1 && typeof(System.Collections.IEnumerable).IsAssignableFrom(type)))
        {
            return Shape.List;
        }

        return type.IsClass && type.Namespace is { } name && (name == "Conveyor" || name.StartsWith("Conveyor.", StringComparison.Ordinal)) ? Shape.Options : Shape.Unknown;
    }

    /// <summary>A value inside a list or dictionary, whose type the binder names ("System.Int32"), and its range if any.</summary>
    private static string AcceptsByName(string typeName, string? range) => typeName switch
    {
        "System.Int32" or "System.Int64" or "System.Int16" => range is null ? "a whole number" : $"a whole number from {range}",
        "System.Boolean" => "true or false",
        "System.TimeSpan" => SettingDescriptions.Accepts(typeof(TimeSpan), null),
        "System.Double" or "System.Decimal" or "System.Single" => "a number",
        _ => "a " + typeName[(typeName.LastIndexOf('.') + 1)..],
    };

    // The configuration binder's own words (Microsoft.Extensions.Configuration.Binder, reflection and generated alike).
    [GeneratedRegex(@"^Failed to convert configuration value '(?<value>.*)' at '(?<path>[^']+)' to type '(?<type>[^']+)'\.$", RegexOptions.Singleline)]
    private static partial Regex UnconvertibleValue();

    [GeneratedRegex(@"^'ErrorOnUnknownConfiguration' was set on the provided BinderOptions, but the following properties were not found on the instance of (?<type>[^:]+): '(?<keys>.+)'$", RegexOptions.Singleline)]
    private static partial Regex UnknownKeys();
}
