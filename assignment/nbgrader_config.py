# nbgrader's settings for the graded assignment (docs/INSTRUCTOR.md, "Grading a class"). Run nbgrader from this
# folder (`make release`, `make autograde` do): source/ is the instructor's notebook, release/ the students',
# submitted/<student>/cnn_budget/ what they hand in, autograded/ and gradebook.db what grading makes.
c = get_config()  # noqa: F821 - nbgrader defines it when it reads this file

c.CourseDirectory.root = "."
c.CourseDirectory.course_id = "mnist-kit"
c.CourseDirectory.db_assignments = [dict(name="cnn_budget")]
# The handed-in record and weights travel with the notebook into autograded/ (they are what the cells grade).
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback"]
# Each cell's time limit while autograding. Nothing trains under the autograder (the notebook sees
# NBGRADER_EXECUTION); the longest cell re-evaluates the weights on 10,000 test images: seconds on a laptop CPU.
c.Execute.timeout = 300
# The gradebook as CSV with which cells each student lost points on (rules_export.py, beside this file).
c.ExportApp.plugin_class = "rules_export.RuleExportPlugin"
