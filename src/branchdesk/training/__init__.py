"""Staff training and development: courses, assignments by role, completions, certifications
with expiry tied to service types, annual compliance reminders and the skills matrix that
decides which services a teller's counter serves."""
