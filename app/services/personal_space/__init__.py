"""The beneficiary's personal space (/mon-espace): links, what it shows, what the person does there."""
