using System.Collections;
using System.ComponentModel;
using System.Reflection;
using Conveyor.AspNetCore;
using Conveyor.Postgres;
using Conveyor.Redis;
using Conveyor.Sqlite;

namespace Conveyor.Server;

/// <summary>
/// Refuses settings under <c>Conveyor</c> that nothing reads (a misspelt key would otherwise be ignored without a word)
/// and values that cannot be converted to their setting's type, before anything starts. The valid keys are found by
/// reflection over the options classes bound to each section, once at start, so a new option is known without a list
/// to maintain; the nearest valid key is suggested.
/// </summary>
internal static class SettingsCheck
{
    /// <summary>The sections and the types bound to them; several types may share a section.</summary>
    private static readonly (string Section, Type Options)[] Bound =
    [
        (ConveyorOptions.SectionName, typeof(ConveyorOptions)),
        (ConveyorOptions.SectionName, typeof(ServerSettings)),
        (JobServerOptions.SectionName, typeof(JobServerOptions)),
        (ConveyorApiOptions.SectionName, typeof(ConveyorApiOptions)),
        (ConveyorHealthOptions.SectionName, typeof(ConveyorHealthOptions)),
        (ConveyorDashboardOptions.SectionName, typeof(ConveyorDashboardOptions)),
        (FireAndForgetOptions.SectionName, typeof(FireAndForgetOptions)),
        ("Conveyor:Sqlite", typeof(SqliteStoreOptions)),
        (RedisStoreOptions.SectionName, typeof(RedisStoreOptions)),
        (PostgresStoreOptions.SectionName, typeof(PostgresStoreOptions)),
        ("Conveyor:Samples", typeof(SampleSettings)),
        (ConveyorOptions.SectionName, typeof(ScheduleSettings)),
    ];

    /// <summary>Throws <see cref="InvalidSettingException"/> for the first unknown key or unreadable value.</summary>
    public static void ThrowIfInvalid(IConfiguration configuration)
    {
        var root = new Node();
        foreach (var (section, options) in Bound)
        {
            var node = root;
            foreach (var part in section.Split(':'))
            {
                node = node.Child(part);
            }

            node.AddProperties(options);
        }

        var conveyor = root.Children["Conveyor"];

        // A job type's name is domain:action, which configuration splits into levels (JobTypeRetentionSettings).
        conveyor.Children["Retention"].Children["JobTypes"].AnyKey!.AcceptNameParts();
        foreach (var child in configuration.GetSection(ConveyorOptions.SectionName).GetChildren())
        {
            Check(child, conveyor);
        }

        LogLevelSettings.ThrowIfInvalid(configuration);
    }

    private static void Check(IConfigurationSection section, Node expected)
    {
        if (!expected.Children.TryGetValue(section.Key, out var node) && expected.AnyKey is null)
        {
            var nearest = SettingDescriptions.Nearest(section.Key, expected.Children.Keys);
            var parent = section.Path[..^section.Key.Length];
            throw new InvalidSettingException(nearest is null
                ? $"unknown setting {section.Path}; the settings under {parent.TrimEnd(':')} are: {string.Join(", ", expected.Children.Keys.Order(StringComparer.OrdinalIgnoreCase))}."
                : $"unknown setting {section.Path}; did you mean {parent}{nearest}?");
        }

        node ??= expected.AnyKey!;
        if (node.TakesNameParts && section.Value is not null && !section.GetChildren().Any())
        {
            // Read as one more part of a job type's name, a value here can only be a misspelt setting.
            var parent = section.Path[..^section.Key.Length];
            throw new InvalidSettingException(SettingDescriptions.Nearest(section.Key, node.Children.Keys) is { } nearest
                ? $"unknown setting {section.Path}; did you mean {parent}{nearest}?"
                : $"unknown setting {section.Path}; the settings under {parent.TrimEnd(':')} are: {string.Join(", ", node.Children.Keys.Order(StringComparer.OrdinalIgnoreCase))} (or the next part of the job type's name).");
        }

        if (node.Leaf is { } type && section.Value is { Length: > 0 } value && !CanConvert(value, type))
        {
            throw new InvalidSettingException($"{section.Path} is '{value}'; it accepts {SettingDescriptions.Accepts(type, node.Range)}.");
        }

        foreach (var child in section.GetChildren())
        {
            if (node.Leaf is not null)
            {
                throw new InvalidSettingException($"unknown setting {child.Path}: {section.Path} takes a single value ({SettingDescriptions.Accepts(node.Leaf, node.Range)}).");
            }

            Check(child, node);
        }
    }

    private static bool CanConvert(string value, Type type)
    {
        try
        {
            TypeDescriptor.GetConverter(type).ConvertFromInvariantString(value);
            return true;
        }
        catch (Exception e) when (e is FormatException or ArgumentException or NotSupportedException or OverflowException || e.InnerException is FormatException or OverflowException)
        {
            return false;
        }
    }

    /// <summary>A node of the settings tree: named children, any key (dictionaries, list indices), or a single value.</summary>
    private sealed class Node
    {
        public Dictionary<string, Node> Children { get; } = new(StringComparer.OrdinalIgnoreCase);

        public Node? AnyKey { get; private set; }

        public Type? Leaf { get; private set; }

        /// <summary>"min to max" of the setting's range attribute, when it has one.</summary>
        public string? Range { get; private set; }

        /// <summary>"min to max" of each value of a dictionary setting, when it has one (a queue's weight).</summary>
        public string? ValuesRange { get; private set; }

        /// <summary>True where a key that is not a setting is the next part of a name (<see cref="AcceptNameParts"/>).</summary>
        public bool TakesNameParts { get; private set; }

        public Node Child(string name) => Children.TryGetValue(name, out var node) ? node : Children[name] = new Node();

        /// <summary>Under this node, a key that is none of its settings is one more part of the name it is keyed by.</summary>
        public void AcceptNameParts()
        {
            TakesNameParts = true;
            AnyKey = this;
        }

        public void AddProperties(Type type)
        {
            foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
            {
                if (property.GetIndexParameters().Length == 0 && (property.CanWrite || IsCollection(property.PropertyType)))
                {
                    var child = Child(property.Name);
                    child.Range = SettingDescriptions.RangeOf(property);
                    child.ValuesRange = SettingDescriptions.ValuesRangeOf(property);
                    child.Describe(property.PropertyType);
                }
            }
        }

        private void Describe(Type type)
        {
            var underlying = Nullable.GetUnderlyingType(type) ?? type;
            if (IsValue(underlying))
            {
                Leaf = type;
                return;
            }

            var dictionary = FindGeneric(type, typeof(IDictionary<,>));
            if (dictionary is not null)
            {
                (AnyKey = new Node { Range = ValuesRange }).Describe(dictionary.GetGenericArguments()[1]);
                return;
            }

            var element = type.IsArray ? type.GetElementType() : FindGeneric(type, typeof(IEnumerable<>))?.GetGenericArguments()[0];
            if (element is not null)
            {
                (AnyKey = new Node()).Describe(element);
                return;
            }

            AddProperties(type);
        }

        private static bool IsValue(Type type) =>
            type.IsPrimitive || type.IsEnum || type == typeof(string) || type == typeof(decimal) || type == typeof(TimeSpan)
            || type == typeof(DateTimeOffset) || type == typeof(DateTime) || type == typeof(Uri) || type == typeof(Guid);

        // Get-only lists and dictionaries are filled by the binder; computed read-only views (EffectiveQueues) are not settings.
        private static bool IsCollection(Type type) => typeof(IList).IsAssignableFrom(type) || typeof(IDictionary).IsAssignableFrom(type);

        private static Type? FindGeneric(Type type, Type definition) =>
            type.IsGenericType && type.GetGenericTypeDefinition() == definition
                ? type
                : type.GetInterfaces().FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == definition);
    }

    /// <summary>The server's own settings directly under <c>Conveyor</c>, read before the options are bound.</summary>
    private sealed class ServerSettings
    {
        public string? Store { get; set; }

        public string? Role { get; set; }

        public string? DataDirectory { get; set; }
    }

    /// <summary>The schedules defined in configuration (<c>Conveyor:Schedules:0:Name</c> …), read by the scheduler at start.</summary>
    private sealed class ScheduleSettings
    {
        public List<ScheduleDefinition> Schedules { get; } = [];
    }

    /// <summary>The sample jobs' settings (<c>Conveyor:Samples</c>).</summary>
    private sealed class SampleSettings
    {
        public bool Produce { get; set; }

        public TimeSpan Interval { get; set; }

        public TimeSpan ReportStepDelay { get; set; }

        public string? DataDirectory { get; set; }
    }
}
