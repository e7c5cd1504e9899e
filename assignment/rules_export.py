"""nbgrader's CSV export with the cells each student lost points on: ``nbgrader export`` (``nbgrader_config.py``).

One row per student and assignment: ``student_id, assignment, score, max_score, failed_cells`` (the autograded cells'
``grade_id`` s, e.g. ``accuracy``, ``record_matches_weights``; cells still to grade by hand are listed as such).
"""

from nbgrader.api import MissingEntry
from nbgrader.plugins import ExportPlugin


class RuleExportPlugin(ExportPlugin):
    def export(self, gradebook) -> None:
        lines = ["student_id,assignment,score,max_score,failed_cells,needs_manual_grade"]
        for assignment in gradebook.assignments:
            for student in gradebook.students:
                try:
                    submission = gradebook.find_submission(assignment.name, student.id)
                except MissingEntry:
                    lines.append(f"{student.id},{assignment.name},0,{assignment.max_score},not submitted,")
                    continue
                grades = [grade for notebook in submission.notebooks for grade in notebook.grades]
                failed = [g.name for g in grades if g.cell.cell_type == "code" and g.score < g.max_score]  # autograded
                manual = [g.name for g in grades if g.needs_manual_grade]  # the Analysis, once written
                row = [student.id, assignment.name, f"{submission.score:g}", f"{assignment.max_score:g}"]
                lines.append(",".join([*row, " ".join(sorted(failed)), " ".join(sorted(manual))]))
        with open(self.to or "grades.csv", "w") as out:
            out.write("\n".join(lines) + "\n")
