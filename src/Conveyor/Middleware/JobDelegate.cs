namespace Conveyor;

/// <summary>The rest of the pipeline, ending in the job's handler.</summary>
public delegate ValueTask JobDelegate(JobContext context);
